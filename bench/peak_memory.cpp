#include "bench/peak_memory.h"

#include <malloc.h>

#include <fstream>
#include <string>

namespace lincat::bench {
namespace {

// The "NAME:  123 kB" line of /proc/self/status, in bytes.
int64_t status_bytes(const std::string& name) {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(name + ":", 0) == 0) return std::stoll(line.substr(name.size() + 1)) * 1024;
  }
  return 0;
}

}  // namespace

void reset_peak_memory() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
}

int64_t peak_memory_bytes() { return status_bytes("VmHWM"); }

int64_t resident_memory_bytes() { return status_bytes("VmRSS"); }

void release_free_memory() { malloc_trim(0); }

}  // namespace lincat::bench
