// The thread choice: one thread for small work, more as the work grows, never more than the
// cores; LINCAT_THREADS wins; --verbose prints the choice.
#include "lincat/util/threads.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <thread>

#include "support/run_program.h"
#include "support/temp_dir.h"
#include "test_paths.h"

namespace lincat {
namespace {

int cores() { return std::max(1, static_cast<int>(std::thread::hardware_concurrency())); }

TEST(Threads, OneThreadForSmallWorkMoreForLargeAtMostTheCores) {
  EXPECT_EQ(threads_for_work(64, 1), 1);       // the fixture model decoding
  EXPECT_EQ(threads_for_work(768, 1), 1);      // a 100M model decoding
  EXPECT_EQ(threads_for_work(64, 128), 1);     // the fixture model scoring
  EXPECT_EQ(threads_for_work(160, 256), 1);    // the teacher's conversion step (0.6 units)
  EXPECT_EQ(threads_for_work(768, 128), std::min(2, cores()));  // a 100M model scoring (1.5 units)
  EXPECT_EQ(threads_for_work(4096, 4096), cores());  // a Llama-7B layer over 4096 tokens
  int previous = 1;
  for (int64_t tokens = 1; tokens <= 1 << 20; tokens *= 2) {
    const int threads = threads_for_work(768, tokens);
    EXPECT_GE(threads, previous);
    EXPECT_LE(threads, cores());
    previous = threads;
  }
  EXPECT_EQ(threads_for_work(0, 0), 1);
}

// Sets LINCAT_THREADS for the scope (unset: nullptr), restoring the previous value after.
class ThreadsVariable {
 public:
  explicit ThreadsVariable(const char* value) {
    if (const char* old = std::getenv("LINCAT_THREADS")) previous_ = old;
    if (value) {
      ::setenv("LINCAT_THREADS", value, 1);
    } else {
      ::unsetenv("LINCAT_THREADS");
    }
  }
  ~ThreadsVariable() {
    if (previous_.empty()) {
      ::unsetenv("LINCAT_THREADS");
    } else {
      ::setenv("LINCAT_THREADS", previous_.c_str(), 1);
    }
  }

 private:
  std::string previous_;
};

TEST(Threads, VerbosePrintsTheChoiceAndTheVariableOverridesIt) {
  const test::TempDir dir;
  const std::string forward =
      "forward " LINCAT_TEST_DATA "/hf-reference/llama-gqa --ids 1,2,3 --out " + dir.file("logits.safetensors");
  {
    const ThreadsVariable unset(nullptr);
    const auto result = test::run_lincat(forward + " --verbose");
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_NE(result.err.find("threads: 1 of "), std::string::npos) << result.err;
    EXPECT_EQ(test::run_lincat(forward).err.find("threads:"), std::string::npos);
  }
  const ThreadsVariable two("2");
  const auto result = test::run_lincat(forward + " --verbose");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find("threads: 2 (LINCAT_THREADS)"), std::string::npos) << result.err;
}

// libgomp's idle threads must not spin on the cores OpenBLAS needs: lincat restarts itself with
// passive waits unless the environment chose, and --verbose says which.
TEST(Threads, OpenMpWaitsArePassiveUnlessTheEnvironmentChooses) {
  const test::TempDir dir;
  const std::string forward = "forward " LINCAT_TEST_DATA "/hf-reference/llama-gqa --ids 1,2,3 --out " +
                              dir.file("logits.safetensors") + " --verbose";
  const char* before = std::getenv("OMP_WAIT_POLICY");
  const std::string previous = before ? before : "";
  ::unsetenv("OMP_WAIT_POLICY");
  const auto passive = test::run_lincat(forward);
  ASSERT_EQ(passive.exit_code, 0) << passive.err;
  EXPECT_NE(passive.err.find("OpenMP waits: PASSIVE\n"), std::string::npos) << passive.err;
  ::setenv("OMP_WAIT_POLICY", "ACTIVE", 1);
  const auto chosen = test::run_lincat(forward);
  ASSERT_EQ(chosen.exit_code, 0) << chosen.err;
  EXPECT_NE(chosen.err.find("OpenMP waits: ACTIVE\n"), std::string::npos) << chosen.err;
  if (before) {
    ::setenv("OMP_WAIT_POLICY", previous.c_str(), 1);
  } else {
    ::unsetenv("OMP_WAIT_POLICY");
  }
}

}  // namespace
}  // namespace lincat
