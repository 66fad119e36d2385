#include "lincat/util/memory.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>


namespace lincat {
namespace {

constexpr uint64_t kSaturated = std::numeric_limits<uint64_t>::max();

// A "<key>: <n> kB" line of /proc/meminfo in bytes, or 0 when absent.
uint64_t meminfo_bytes(const std::string& key) {
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    if (line.compare(0, key.size() + 1, key + ":") != 0) continue;
    std::istringstream fields(line.substr(key.size() + 1));
    uint64_t kib = 0;
    if (fields >> kib) return saturating_product({kib, 1024});
  }
  return 0;
}

}  // namespace

uint64_t physical_memory_bytes() {
  if (const uint64_t total = meminfo_bytes("MemTotal")) return total;
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page_size > 0 ? saturating_product({uint64_t(pages), uint64_t(page_size)}) : kSaturated;
}

uint64_t available_memory_bytes() {
  if (const uint64_t available = meminfo_bytes("MemAvailable")) return available;
  return physical_memory_bytes();
}

uint64_t saturating_product(std::initializer_list<uint64_t> factors) {
  uint64_t product = 1;
  for (uint64_t factor : factors) {
    if (factor == 0) return 0;
    if (__builtin_mul_overflow(product, factor, &product)) product = kSaturated;
  }
  return product;
}

uint64_t saturating_sum(std::initializer_list<uint64_t> terms) {
  uint64_t sum = 0;
  for (uint64_t term : terms) {
    if (__builtin_add_overflow(sum, term, &sum)) return kSaturated;
  }
  return sum;
}

std::string gib_text(uint64_t bytes) {
  if (bytes == kSaturated) return "more than " + std::to_string(kSaturated >> 30) + " GiB";
  char text[64];
  std::snprintf(text, sizeof text, "%.1f GiB", static_cast<double>(bytes) / double(1ull << 30));
  return text;
}

}  // namespace lincat
