// keep_large_allocations_in_heap (util/allocator.h): a large freed block stays with the process,
// so the next temporary of its size is not faulted in again.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include "lincat/util/allocator.h"
#include "lincat/util/memory.h"

namespace lincat::util {
namespace {

TEST(Allocator, FreedLargeBlocksStayResident) {
#if !defined(__GLIBC__)
  GTEST_SKIP() << "glibc only";
#endif
  ASSERT_TRUE(keep_large_allocations_in_heap());
  constexpr size_t kBytes = size_t{64} << 20;
  const uint64_t before = resident_bytes();
  // Nothing is allocated between the malloc and the free (resident_bytes allocates), so the block
  // is the heap's top when freed: without the kept heap, glibc trims it (or unmaps it) at once.
  void* volatile block = std::malloc(kBytes);  // volatile: the compiler may not drop the pair
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, kBytes);  // resident now
  std::free(block);
  EXPECT_GT(resident_bytes(), before + kBytes / 2) << "the freed block went back to the system";
}

}  // namespace
}  // namespace lincat::util
