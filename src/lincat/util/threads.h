#pragma once
#include <cstdint>
#include <iosfwd>

namespace lincat {

// Restarts the program (execv of /proc/self/exe, same arguments) with OMP_WAIT_POLICY=PASSIVE
// unless the environment sets it. libgomp reads it once, as it loads, before main: by default its
// idle threads spin after every parallel region, on the cores OpenBLAS's threads need for the next
// matrix product (a 100M-parameter conversion step took 217 s on 2 threads that way, 66 s with
// passive waits, 93 s on 1 thread). Call first thing in main; returns if the exec fails.
void restart_with_passive_openmp_waits(char** argv);

// Sets libtorch's intra-op threads to the hardware's core count (or $LINCAT_THREADS) and
// returns the number chosen. The program's default until a command knows its work size.
int configure_threads();

// Sets libtorch's intra-op threads to `threads` (>= 1).
void set_threads(int threads);

// Intra-op threads for work of `width` (the model's hidden size) x `tokens_per_call` (tokens one
// forward call processes): one thread for small work, where thread hand-offs cost more than the
// split saves (a 0.16M-parameter model runs ~3x slower on 2 threads than on 1), else the work in
// units of kWorkPerThread rounded to the nearest, at most one per core.
inline constexpr int64_t kWorkPerThread = 65536;
int threads_for_work(int64_t width, int64_t tokens_per_call);

// Chooses and sets the threads of a command from its work size; $LINCAT_THREADS overrides the
// choice. Reports the choice on the stream given to report_thread_choice (--verbose). Returns it.
int use_threads_for(int64_t width, int64_t tokens_per_call);
void report_thread_choice(std::ostream* out);

}  // namespace lincat
