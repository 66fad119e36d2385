// Data and layer sharding by rank: contiguous blocks, so that the ranks' shares put together are
// the single-process whole in order. A step's global batch depends on the step alone, so the same
// split works for any world size (and a checkpoint resumes with any world size). Torch-free.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

namespace lincat::dist {

struct Slice {
  int64_t begin = 0, end = 0;  // [begin, end)
  int64_t size() const { return end - begin; }
};

// The block of items [0, count) that `rank` of `world_size` owns; block sizes differ by at most
// one, the earlier ranks taking the larger ones. Some ranks get none when count < world_size.
inline Slice rank_slice(int64_t count, int rank, int world_size) {
  const int64_t w = world_size, r = rank;
  const int64_t base = count / w, extra = count % w;
  Slice s;
  s.begin = r * base + std::min(r, extra);
  s.end = s.begin + base + (r < extra ? 1 : 0);
  return s;
}

// This rank's part of `items` (a step's global batch, the held-out set).
template <typename T>
std::vector<T> rank_share(const std::vector<T>& items, int rank, int world_size) {
  const Slice s = rank_slice(static_cast<int64_t>(items.size()), rank, world_size);
  return std::vector<T>(items.begin() + s.begin, items.begin() + s.end);
}

}  // namespace lincat::dist
