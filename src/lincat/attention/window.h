// THE window predicate: is key j in the window set W(i) of query i (algorithms.md section 2)?
// Every form uses it: the reference's dense masks, the chunked form's [C x 2C] block masks and the
// recurrent form's ring-buffer eviction. Positions are 0-based from the start of the sequence.
#pragma once
#include <cstdint>

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

}  // namespace lincat::attention
