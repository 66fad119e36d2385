#include "lincat/util/memory.h"

#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cctype>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <utility>

#include "lincat/util/error.h"

namespace lincat {
namespace {

constexpr uint64_t kSaturated = std::numeric_limits<uint64_t>::max();

// A "<key>: <n> kB" line of a /proc file in bytes, or 0 when absent.
uint64_t kib_field_bytes(const std::string& path, const std::string& key) {
  std::ifstream file(path);
  std::string line;
  while (std::getline(file, line)) {
    if (line.compare(0, key.size() + 1, key + ":") != 0) continue;
    std::istringstream fields(line.substr(key.size() + 1));
    uint64_t kib = 0;
    if (fields >> kib) return saturating_product({kib, 1024});
  }
  return 0;
}

}  // namespace

uint64_t physical_memory_bytes() {
  if (const uint64_t total = kib_field_bytes("/proc/meminfo", "MemTotal")) return total;
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page_size > 0 ? saturating_product({uint64_t(pages), uint64_t(page_size)}) : kSaturated;
}

uint64_t available_memory_bytes() {
  if (const uint64_t available = kib_field_bytes("/proc/meminfo", "MemAvailable")) return available;
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

uint64_t parse_byte_size(const std::string& text, const std::string& flag) {
  const std::string what = flag + " '" + text + "'";
  size_t used = 0;
  double number = 0;
  try {
    number = std::stod(text, &used);
  } catch (const std::exception&) {
    throw UserError(what + ": expected a size such as 24GiB, 5GB or 512MiB");
  }
  std::string unit = text.substr(used);
  for (char& ch : unit) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  static const std::pair<const char*, double> units[] = {
      {"", 1},       {"B", 1},          {"KB", 1e3},       {"MB", 1e6},       {"GB", 1e9},
      {"TB", 1e12},  {"KIB", 0x1p10},   {"MIB", 0x1p20},   {"GIB", 0x1p30},   {"TIB", 0x1p40}};
  for (const auto& [name, scale] : units) {
    if (unit != name) continue;
    const double bytes = number * scale;
    if (!(bytes >= 1) || bytes >= 0x1p63) throw UserError(what + ": the size must be at least one byte and below 8 EiB");
    return static_cast<uint64_t>(bytes);
  }
  throw UserError(what + ": unknown unit '" + text.substr(used) + "' (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)");
}

uint64_t peak_resident_bytes() { return kib_field_bytes("/proc/self/status", "VmHWM"); }

uint64_t resident_bytes() { return kib_field_bytes("/proc/self/status", "VmRSS"); }

bool reset_peak_resident() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
  std::ofstream clear_refs("/proc/self/clear_refs");
  clear_refs << "5";
  clear_refs.flush();
  return static_cast<bool>(clear_refs);
}

}  // namespace lincat
