#include "lincat/util/huge_pages.h"

#include <sys/mman.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <new>
#include <sstream>
#include <string>

namespace lincat::util {
namespace {

constexpr int64_t kHugePage = int64_t{2} << 20;
constexpr int64_t kLine = 64;

int64_t round_up(int64_t n, int64_t multiple) { return (n + multiple - 1) / multiple * multiple; }

// One anonymous mapping, unmapped when the last tensor placed in it is freed.
struct Mapping {
  void* address = nullptr;
  size_t length = 0;
  ~Mapping() {
    if (address) munmap(address, length);
  }
};

}  // namespace

std::vector<at::Tensor> empty_in_huge_pages(const std::vector<TensorSpec>& specs) {
  if (specs.empty()) return {};
  std::vector<int64_t> offsets;
  int64_t total = 0;
  for (const TensorSpec& spec : specs) {
    offsets.push_back(total);
    int64_t numel = 1;
    for (const int64_t size : spec.sizes) numel *= size;
    total += round_up(numel * static_cast<int64_t>(c10::elementSize(spec.dtype)), kLine);
  }
  total = std::max(total, kLine);
  // A huge page more than needed, so that the start can be moved to a 2 MiB boundary.
  auto mapping = std::make_shared<Mapping>();
  mapping->length = static_cast<size_t>(round_up(total, kHugePage) + kHugePage);
  void* address = mmap(nullptr, mapping->length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (address == MAP_FAILED) throw std::bad_alloc();
  mapping->address = address;
  const auto start = static_cast<uintptr_t>(round_up(static_cast<int64_t>(reinterpret_cast<uintptr_t>(address)), kHugePage));
  char* base = reinterpret_cast<char*>(start);
  // A hint: without transparent huge pages (or with them set to "never") the pages stay 4 KiB.
  madvise(base, static_cast<size_t>(round_up(total, kHugePage)), MADV_HUGEPAGE);

  std::vector<at::Tensor> tensors;
  for (size_t i = 0; i < specs.size(); ++i) {
    tensors.push_back(at::from_blob(
        base + offsets[i], specs[i].sizes, [mapping](void*) {}, at::TensorOptions().dtype(specs[i].dtype)));
  }
  return tensors;
}

int64_t huge_page_bytes() {
  std::ifstream in("/proc/self/smaps_rollup");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("AnonHugePages:", 0) != 0) continue;
    std::istringstream fields(line.substr(14));
    int64_t kib = 0;
    fields >> kib;
    return kib * 1024;
  }
  return 0;
}

}  // namespace lincat::util
