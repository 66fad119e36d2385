// Process-wide allocator setting for large CPU tensors.
#pragma once

namespace lincat::util {

// Serves large blocks from the malloc heap instead of a fresh mmap() each, and keeps freed heap
// memory: glibc maps every block above its threshold (32 MiB at most by default) anew and returns
// it on free, and returns the heap's free top beyond its trim threshold, so each large temporary
// page-faults and is zero-filled by the kernel again, which on CPU costs as much time as the
// attention arithmetic itself (on this project's virtual machines, several times as much: the
// hedgehog features at n = 8192 took 1.9 s with the heap trimmed, 0.17 s without). The price:
// freed memory stays with the process for reuse (util/memory.h's reset_peak_resident trims it).
// Call once at start-up, before large allocations. Returns false where unsupported (not glibc).
bool keep_large_allocations_in_heap();

}  // namespace lincat::util
