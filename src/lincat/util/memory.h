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

}  // namespace lincat
