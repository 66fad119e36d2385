// CPU memory for large, long-lived tensors (a model's weights) backed by 2 MiB transparent huge
// pages where the kernel grants them (madvise; Debian's default THP setting). A decode step reads
// every weight once, and on 4 KiB pages in a virtual machine address translation limits that
// stream (`lincat bench model` times the decode kernel over the weights and over a copy of them on
// 4 KiB heap pages: docs/BENCHMARKS.md). Where the kernel grants no huge pages this is ordinary
// memory.
#pragma once
#include <torch/torch.h>

#include <vector>

namespace lincat::util {

struct TensorSpec {
  std::vector<int64_t> sizes;
  at::ScalarType dtype = at::kFloat;
};

// Empty contiguous CPU tensors, one per spec, in one anonymous mapping: each starts on a 64-byte
// line, the mapping on a 2 MiB boundary. The mapping is released when the last of them goes.
std::vector<at::Tensor> empty_in_huge_pages(const std::vector<TensorSpec>& specs);

// Bytes of this process's memory in transparent huge pages (AnonHugePages of /proc/self/smaps_rollup;
// 0 where unreadable): to see whether the kernel granted them.
int64_t huge_page_bytes();

}  // namespace lincat::util
