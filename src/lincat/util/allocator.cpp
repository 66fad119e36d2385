#include "lincat/util/allocator.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <limits>

namespace lincat::util {

bool keep_large_allocations_in_heap() {
#if defined(__GLIBC__)
  // The largest threshold mallopt takes (2 GiB): only blocks above it are still mmap()ed. Freed
  // memory at the top of the heap is kept as well: glibc otherwise returns all of it above 128 KiB
  // (the default once the mmap threshold is set by hand), and the next temporary faults it in again.
  const int largest = std::numeric_limits<int>::max();
  return mallopt(M_MMAP_THRESHOLD, largest) == 1 && mallopt(M_TRIM_THRESHOLD, largest) == 1;
#else
  return false;
#endif
}

}  // namespace lincat::util
