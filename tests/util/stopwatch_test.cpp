// seconds_since: the elapsed time in seconds, as a double, on the steady clock.
#include <gtest/gtest.h>

#include "lincat/util/stopwatch.h"

namespace lincat {
namespace {

TEST(UtilStopwatch, SecondsSinceCountsSecondsFromTheStart) {
  const SteadyClock::time_point start = SteadyClock::now() - std::chrono::milliseconds(1500);
  const double seconds = seconds_since(start);
  EXPECT_GE(seconds, 1.5);
  EXPECT_LT(seconds, 60.0);  // not milliseconds or nanoseconds
}

}  // namespace
}  // namespace lincat
