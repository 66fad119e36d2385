// What refusing work that cannot fit in memory needs: how much memory the machine has, size
// arithmetic that cannot wrap, and sizes in words.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>

namespace lincat {

// MemTotal of /proc/meminfo (sysconf when that is unreadable): what the machine has at all.
uint64_t physical_memory_bytes();
// MemAvailable of /proc/meminfo (physical_memory_bytes() when absent): what a request may use now.
uint64_t available_memory_bytes();

// Product of `factors`, saturating at UINT64_MAX: an absurd size stays absurd instead of wrapping
// around to a small number that would pass the check.
uint64_t saturating_product(std::initializer_list<uint64_t> factors);
uint64_t saturating_sum(std::initializer_list<uint64_t> terms);

// "12.5 GiB"; "more than 17179869184 GiB" for a saturated size.
std::string gib_text(uint64_t bytes);

// "5GB" (10^9), "24GiB" (2^30), "512MiB", "1.5TB", "4096" (bytes); units B, KB, MB, GB, TB and
// KiB ... TiB, any case. Throws UserError "<flag> '<text>': ..." for anything else or zero.
uint64_t parse_byte_size(const std::string& text, const std::string& flag);

// The process's peak resident memory (VmHWM of /proc/self/status; 0 where unreadable).
uint64_t peak_resident_bytes();
// The process's resident memory now (VmRSS; 0 where unreadable).
uint64_t resident_bytes();
// Starts a new peak: the heap's free memory goes back to the system first (keep_large_allocations_in_heap
// keeps it, so an earlier phase's freed tensors would otherwise count in the next phase's peak),
// then the kernel's VmHWM is reset to the current resident size (Linux >= 4.0). Returns false
// where unsupported; peak_resident_bytes() then keeps the lifetime peak.
bool reset_peak_resident();

}  // namespace lincat
