// `lincat pretrain` as two cooperating processes on loopback (c10d, Gloo): rank 0 trains the
// tokenizer and fills the token cache while rank 1 waits, and the model, tokenizer and held-out
// loss equal one process's; a rank killed mid-run makes the other exit at once with a clear
// error, and --resume with one process finishes where an uninterrupted run would.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "lincat/io/tokenizer.h"
#include "support/run_program.h"
#include "support/temp_dir.h"
#include "support/two_ranks.h"
#include "test_paths.h"

namespace lincat::dist {
namespace {

namespace fs = std::filesystem;
using test::ProgramResult;
using test::run_lincat;

const std::string kText = "/usr/share/common-licenses/GPL-3";

// The tiny config cut to 12 steps: four sequences per step, so that two ranks take two each.
std::string pretrain(const std::string& out, const std::string& cache, const std::string& extra = "") {
  return "pretrain --data " + kText + " --out " + out + " --config " LINCAT_TEST_DATA "/pretrain/tiny.yaml" +
         " --set data.cache_dir=" + cache + " --set steps=12 --set eval_interval=6 " + extra;
}

// The number after "held-out loss " in a summary, or NaN.
double held_out_loss(const std::string& summary) {
  const size_t at = summary.find("held-out loss ");
  return at == std::string::npos ? std::nan("") : std::strtod(summary.c_str() + at + 14, nullptr);
}

struct SingleRun {
  test::TempDir dir;
  std::string out;
  ProgramResult result;
  SingleRun() : out(dir.file("one")) {
    ::setenv("LINCAT_THREADS", "1", 1);
    result = run_lincat(pretrain(out, dir.file("cache")));
  }
};

// One process's run (once per test process).
const SingleRun& single_run() {
  static const SingleRun* run = new SingleRun();
  EXPECT_EQ(run->result.exit_code, 0) << run->result.err;
  return *run;
}

TEST(DistPretrain, TwoProcessesEqualOneAndOnlyRankZeroTrainsTheTokenizer) {
  const SingleRun& one = single_run();
  test::TempDir dir;
  const std::string out = dir.file("two");
  // A cache of its own: rank 0 tokenises into it while rank 1 waits, then rank 1 reads it.
  const auto [rank0, rank1] = test::run_two_ranks(pretrain(out, dir.file("cache")));
  ASSERT_EQ(rank0.exit_code, 0) << rank0.err;
  ASSERT_EQ(rank1.exit_code, 0) << rank1.err;
  EXPECT_TRUE(rank1.out.empty()) << "only rank 0 reports: " << rank1.out;
  EXPECT_NE(rank0.out.find("tokenizer: trained bpe"), std::string::npos) << rank0.out;
  EXPECT_NE(rank0.out.find("tokenised, cached in"), std::string::npos) << rank0.out;
  // The same pieces (the files differ in the trainer's temporary paths they record).
  const auto expected_tokenizer = io::Tokenizer::load(one.out + "/tokenizer.model");
  const auto tokenizer = io::Tokenizer::load(out + "/tokenizer.model");
  ASSERT_EQ(tokenizer->vocab_size(), expected_tokenizer->vocab_size());
  for (int64_t id = 0; id < tokenizer->vocab_size(); ++id) EXPECT_EQ(tokenizer->piece(id), expected_tokenizer->piece(id)) << id;
  test::expect_close_safetensors(one.out + "/model.safetensors", out + "/model.safetensors");
  EXPECT_FALSE(fs::exists(out + "/checkpoint.safetensors"));
  // The final held-out loss is summed over both ranks' halves of the held-out set.
  const double expected = held_out_loss(one.result.out), got = held_out_loss(rank0.out);
  ASSERT_FALSE(std::isnan(expected)) << one.result.out;
  EXPECT_NEAR(got, expected, 1e-4 * expected) << rank0.out;
}

TEST(DistPretrain, AKilledRankStopsTheOtherAndResumeFinishesWithOneProcess) {
  const SingleRun& one = single_run();
  test::TempDir dir;
  const std::string out = dir.file("killed");
  const std::string command = pretrain(out, dir.file("cache"), "--set checkpoint_interval=1");
  ::setenv("LINCAT_TEST_KILL_RANK_AT_STEP", "1:3", 1);
  const auto [rank0, rank1] = test::run_two_ranks(command);
  ::unsetenv("LINCAT_TEST_KILL_RANK_AT_STEP");
  EXPECT_EQ(rank1.exit_code, 128 + 9) << rank1.err;
  EXPECT_EQ(rank0.exit_code, 2) << rank0.err;
  for (const char* part : {"error: rank 0 of 2", "failed", "another process of this run stopped", "--resume"}) {
    EXPECT_NE(rank0.err.find(part), std::string::npos) << part << " missing from: " << rank0.err;
  }
  ASSERT_TRUE(fs::exists(out + "/checkpoint.safetensors")) << "steps 1 and 2 were checkpointed";

  const ProgramResult resumed = run_lincat(command + " --resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.out.find("pretrained 12 steps"), std::string::npos) << resumed.out;
  test::expect_close_safetensors(one.out + "/model.safetensors", out + "/model.safetensors");
}

}  // namespace
}  // namespace lincat::dist
