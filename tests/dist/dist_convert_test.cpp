// `lincat convert` as two cooperating processes on loopback (c10d, Gloo): the result equals one
// process's on the same global batch, data parallel and stage-1 layer parallel; a rank killed
// mid-run makes the other exit at once with a clear error, and --resume with one process finishes.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <future>
#include <string>

#include "lincat/io/tensor_io.h"
#include "support/run_program.h"
#include "support/safetensors_bytes.h"
#include "support/temp_dir.h"
#include "support/tiny_teacher.h"

namespace lincat::dist {
namespace {

namespace fs = std::filesystem;
using test::ProgramResult;
using test::run_lincat;

// A port nothing listens on now (the kernel's pick for an ephemeral bind).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

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

// Runs ranks 0 and 1 of `command` at once; returns their results.
std::pair<ProgramResult, ProgramResult> run_two(const std::string& command, const std::string& rank1_env = "") {
  const std::string flags = " --world-size 2 --dist-timeout 30 --master-addr 127.0.0.1 --master-port " +
                            std::to_string(free_port());
  auto rank1 = std::async(std::launch::async, [&] { return run_lincat(command + flags + " --rank 1" + rank1_env); });
  ProgramResult rank0 = run_lincat(command + flags + " --rank 0");
  return {rank0, rank1.get()};
}

void expect_close_tensors(const std::string& a, const std::string& b) {
  const auto x = io::load_safetensors_map(a), y = io::load_safetensors_map(b);
  ASSERT_EQ(x.size(), y.size());
  for (const auto& [name, tensor] : x) {
    ASSERT_TRUE(y.count(name)) << name;
    EXPECT_TRUE(at::allclose(tensor, y.at(name), 1e-4, 1e-5)) << name << " differs by "
                                                              << (tensor - y.at(name)).abs().max().item<double>();
  }
}

TEST(DistConvert, TwoProcessesEqualOneOnTheSameGlobalBatch) {
  const Fixture& f = fixture();
  const std::string one = single_run();
  for (const std::string mode : {"", "--layer-parallel"}) {
    const std::string out = f.dir.file("two" + mode);
    const auto [rank0, rank1] = run_two(f.convert(out, mode));
    ASSERT_EQ(rank0.exit_code, 0) << mode << ": " << rank0.err;
    ASSERT_EQ(rank1.exit_code, 0) << mode << ": " << rank1.err;
    EXPECT_TRUE(rank1.out.empty()) << "only rank 0 reports: " << rank1.out;
    expect_close_tensors(one + "/model.safetensors", out + "/model.safetensors");
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
  const auto [rank0, rank1] = run_two(command);
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
  expect_close_tensors(single_run() + "/model.safetensors", out + "/model.safetensors");
}

}  // namespace
}  // namespace lincat::dist
