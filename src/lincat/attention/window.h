// THE window predicate: is key j in the window set W(i) of query i (algorithms.md section 2)?
// (And, at the end, the teacher's own sliding-window rule, the original model's.)
// Every form uses it: the reference's dense masks, the chunked form's [C x 2C] block masks and the
// recurrent form's ring-buffer eviction. Positions are 0-based from the start of the sequence.
#pragma once
#include <cstdint>
#include <optional>

#include "lincat/attention/modes.h"

namespace lincat::attention {

// Smallest non-sink position in W(query).
//   standard: the last w keys, i - w < j <= i;
//   terraced: blocks of w from position 0; the query's own block plus the whole previous one.
inline int64_t window_start(int64_t query, const HybridConfig& config) {
  const int64_t w = config.window;
  const int64_t start =
      config.layout == Layout::Standard ? query - w + 1 : (query / w - 1) * w;
  return start < 0 ? 0 : start;
}

// Sinks (the first `config.sinks` positions) are always in the window.
inline bool in_window(int64_t query, int64_t key, const HybridConfig& config) {
  if (key < 0 || key > query) return false;
  return key < config.sinks || key >= window_start(query, config);
}

// Most keys W(i) can hold besides the sinks: the size of the decode ring buffer.
inline int64_t window_capacity(const HybridConfig& config) {
  return config.layout == Layout::Standard ? config.window : 2 * int64_t{config.window};
}

// THE teacher's window rule, the original model's attention (the transformers 4.45 eager rule):
// query i sees key j when j <= i and, for a model with a sliding window of w, i - j < w. Used by
// softmax_attention's mask, by the KV cache's eviction and by stage 1's teacher weights.
// Position: int64_t for one pair, or tensors of positions that broadcast into a whole mask.
template <typename Position>
auto teacher_sees(const Position& query, const Position& key, std::optional<int64_t> window) {
  const auto causal = key <= query;
  if (!window) return causal;
  return decltype(causal)(causal & (query - key < *window));
}

}  // namespace lincat::attention
