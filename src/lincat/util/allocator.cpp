#include "lincat/util/allocator.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <limits>

namespace lincat::util {

bool keep_large_allocations_in_heap() {
#if defined(__GLIBC__)
  // The largest threshold mallopt takes (2 GiB): only blocks above it are still mmap()ed.
  return mallopt(M_MMAP_THRESHOLD, std::numeric_limits<int>::max()) == 1;
#else
  return false;
#endif
}

}  // namespace lincat::util
