// `lincat convert` as two cooperating processes on loopback (c10d, Gloo): the result equals one
// process's on the same global batch, data parallel and stage-1 layer parallel; a rank killed
// mid-run makes the other exit at once with a clear error, and --resume with one process finishes.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <string>

#include "support/run_program.h"
#include "support/safetensors_bytes.h"
#include "support/temp_dir.h"
#include "support/tiny_teacher.h"
#include "support/two_ranks.h"

namespace lincat::dist {
namespace {

namespace fs = std::filesystem;
using test::ProgramResult;
using test::run_lincat;

struct Fixture {
  test::TempDir dir;
  std::string teacher, text, cache;
  Fixture() {
    ::setenv("LINCAT_THREADS", "1", 1);
    teacher = test::write_tiny_teacher(dir.file("teacher"));
    text = dir.file("text.txt");
    test::write_bytes(text, test::tiny_text(1200));
    cache = dir.file("cache");
  }
  // Four sequences per step, so that two ranks take two each.
  std::string convert(const std::string& out, const std::string& extra) const {
    return "convert " + teacher + " --recipe lolcats --data " + text + " --out " + out + test::tiny_recipe_flags(cache) +
           " --set data.tokens_per_step=256 --stage1-steps 4 --stage2-steps 2 " + extra;
  }
};

const Fixture& fixture() {
  static const Fixture* f = new Fixture();
  return *f;
}

// The model directory of one process's run (once per test process).
std::string single_run() {
  static const std::string out = [] {
    const std::string dir = fixture().dir.file("one");
    const ProgramResult run = run_lincat(fixture().convert(dir, ""));
    EXPECT_EQ(run.exit_code, 0) << run.err;
    return dir;
  }();
  return out;
}

TEST(DistConvert, TwoProcessesEqualOneOnTheSameGlobalBatch) {
  const Fixture& f = fixture();
  const std::string one = single_run();
  for (const std::string mode : {"", "--layer-parallel"}) {
    const std::string out = f.dir.file("two" + mode);
    const auto [rank0, rank1] = test::run_two_ranks(f.convert(out, mode));
    ASSERT_EQ(rank0.exit_code, 0) << mode << ": " << rank0.err;
    ASSERT_EQ(rank1.exit_code, 0) << mode << ": " << rank1.err;
    EXPECT_TRUE(rank1.out.empty()) << "only rank 0 reports: " << rank1.out;
    test::expect_close_safetensors(one + "/model.safetensors", out + "/model.safetensors");
    EXPECT_FALSE(fs::exists(out + "/checkpoint.safetensors"));
  }
}

TEST(DistConvert, AKilledRankStopsTheOtherAtOnceAndResumeFinishesWithOneProcess) {
  const Fixture& f = fixture();
  const std::string out = f.dir.file("killed");
  const std::string command = f.convert(out, "--set checkpoint_interval=1");
  // Rank 1 SIGKILLs itself at step 3, as a crashed machine would; the hook names the rank, so
  // both processes may see it.
  ::setenv("LINCAT_TEST_KILL_RANK_AT_STEP", "1:3", 1);
  const auto start = std::chrono::steady_clock::now();
  const auto [rank0, rank1] = test::run_two_ranks(command);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ::unsetenv("LINCAT_TEST_KILL_RANK_AT_STEP");
  EXPECT_EQ(rank1.exit_code, 128 + 9) << rank1.err;
  EXPECT_EQ(rank0.exit_code, 2) << rank0.err;
  EXPECT_LT(seconds, 20) << "rank 0 must notice the dead peer long before --dist-timeout 30";
  for (const char* part : {"error: rank 0 of 2", "failed", "another process of this run stopped", "--resume"}) {
    EXPECT_NE(rank0.err.find(part), std::string::npos) << part << " missing from: " << rank0.err;
  }
  ASSERT_TRUE(fs::exists(out + "/checkpoint.safetensors")) << "steps 1 and 2 were checkpointed";

  // Resumed by one process: finishes, and ends where an uninterrupted run would.
  const ProgramResult resumed = run_lincat(command + " --resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("stage 2 step 2/2"), std::string::npos) << resumed.err;
  test::expect_close_safetensors(single_run() + "/model.safetensors", out + "/model.safetensors");
}

}  // namespace
}  // namespace lincat::dist
