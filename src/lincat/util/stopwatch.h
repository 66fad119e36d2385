// Wall-clock seconds for progress lines, logs and benchmarks: one definition of the clock and
// of "seconds since", instead of a copy in every timed loop.
#pragma once
#include <chrono>

namespace lincat {

using SteadyClock = std::chrono::steady_clock;

// Seconds from `start` to now, as a double.
inline double seconds_since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

}  // namespace lincat
