#pragma once

namespace lincat {

// Sets libtorch's intra-op threads to the hardware's core count (or $LINCAT_THREADS) and
// returns the number chosen.
int configure_threads();

// Sets libtorch's intra-op threads to `threads` (>= 1).
void set_threads(int threads);

}  // namespace lincat
