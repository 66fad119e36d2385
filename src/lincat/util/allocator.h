// Process-wide allocator setting for large CPU tensors.
#pragma once

namespace lincat::util {

// Serves large blocks from the malloc heap instead of a fresh mmap() each: glibc maps every block
// above its threshold (32 MiB at most by default) anew and returns it on free, so each large temporary
// page-faults and is zero-filled by the kernel again, which on CPU costs as much time as the
// attention arithmetic itself. The price: freed memory stays with the process for reuse. Call
// once at start-up, before large allocations. Returns false where unsupported (not glibc).
bool keep_large_allocations_in_heap();

}  // namespace lincat::util
