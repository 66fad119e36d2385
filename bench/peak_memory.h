// The process's peak resident memory (Linux VmHWM), resettable so that each measurement reports
// its own peak.
#pragma once
#include <cstdint>

namespace lincat::bench {

// Resets the kernel's peak-RSS counter (VmHWM) to the current resident size.
void reset_peak_memory();
// VmHWM, bytes (0 where /proc is unreadable).
int64_t peak_memory_bytes();
// VmRSS, bytes (0 where /proc is unreadable).
int64_t resident_memory_bytes();
// Returns freed heap memory to the system, so that the next peak counts what a call allocates
// rather than what an earlier one left for reuse.
void release_free_memory();

}  // namespace lincat::bench
