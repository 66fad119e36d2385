// Fault injection for tests, in one place: what a training run does differently when a test
// asks. Nothing else in the library reads test settings or the environment for them.
#pragma once
#include <cstdint>
#include <functional>

namespace lincat::train {

// The defaults do nothing. The CLI fills them from --stop-after-steps and
// LINCAT_TEST_KILL_RANK_AT_STEP (cli/flags.h, TestHookFlags).
struct TestHooks {
  int64_t stop_after_steps = 0;  // checkpoint and stop as on SIGINT after this many steps of a run
  std::function<void(int rank, int64_t step)> before_step;  // called before each (1-based) step
};

}  // namespace lincat::train
