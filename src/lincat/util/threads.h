#pragma once
#include <cstdint>
#include <iosfwd>

namespace lincat {

// Sets libtorch's intra-op threads to the hardware's core count (or $LINCAT_THREADS) and
// returns the number chosen. The program's default until a command knows its work size.
int configure_threads();

// Sets libtorch's intra-op threads to `threads` (>= 1).
void set_threads(int threads);

// Intra-op threads for work of `width` (the model's hidden size) x `tokens_per_call` (tokens one
// forward call processes): one thread for small work, where thread hand-offs cost more than the
// split saves (a 0.16M-parameter model runs ~3x slower on 2 threads than on 1), one more per
// kWorkPerThread, at most one per core.
inline constexpr int64_t kWorkPerThread = 65536;
int threads_for_work(int64_t width, int64_t tokens_per_call);

// Chooses and sets the threads of a command from its work size; $LINCAT_THREADS overrides the
// choice. Reports the choice on the stream given to report_thread_choice (--verbose). Returns it.
int use_threads_for(int64_t width, int64_t tokens_per_call);
void report_thread_choice(std::ostream* out);

}  // namespace lincat
