// Per mode, the keys of query i that enter the softmax branch and those that enter the linear
// branch (algorithms.md section 5). The reference builds its masks from these; the chunked and
// recurrent forms follow the same sets and are tested against the reference.
#pragma once
#include <cstdint>

#include "lincat/attention/modes.h"
#include "lincat/attention/window.h"
#include "lincat/util/error.h"

namespace lincat::attention {

// The softmax branch covers the window set W(i) (plus sinks): the decode state keeps a ring buffer.
inline bool has_window_branch(Mode mode) {
  return mode == Mode::Hybrid || mode == Mode::Window || mode == Mode::Overlap;
}

inline bool has_softmax_branch(Mode mode) { return has_window_branch(mode) || mode == Mode::Sinks; }

inline bool has_linear_branch(Mode mode) {
  return mode == Mode::Hybrid || mode == Mode::Linear || mode == Mode::Overlap;
}

// The softmax branch is weighted by gamma only when a linear branch shares its normaliser;
// alone, gamma would cancel and only add rounding noise to its gradient.
inline bool softmax_branch_is_mixed(Mode mode) {
  return has_softmax_branch(mode) && has_linear_branch(mode);
}

// The hybrid forms implement every mode but Softmax, which is the model's own attention.
inline void require_hybrid_mode(Mode mode) {
  if (mode == Mode::Softmax) {
    throw UserError(
        "attention mode 'softmax' is the model's own attention; the hybrid attention forms "
        "implement hybrid, window, linear, sinks, none and overlap");
  }
}

// How many leading positions the softmax branch keeps regardless of distance: the configured sinks
// inside the window modes, the s keys of the `sinks` mode.
inline int64_t sink_count(Mode mode, const HybridConfig& config) {
  if (mode == Mode::Sinks) return config.sinks_mode_keys;
  return has_softmax_branch(mode) ? config.sinks : 0;
}

inline bool in_softmax_set(Mode mode, int64_t query, int64_t key, const HybridConfig& config) {
  if (has_window_branch(mode)) return in_window(query, key, config);
  if (mode == Mode::Sinks) return key >= 0 && key <= query && key < config.sinks_mode_keys;
  return false;
}

inline bool in_linear_set(Mode mode, int64_t query, int64_t key, const HybridConfig& config) {
  const bool causal = key >= 0 && key <= query;
  switch (mode) {
    case Mode::Hybrid:
      return causal && !in_window(query, key, config);  // L(i) = {j <= i} \ W(i)
    case Mode::Linear:
    case Mode::Overlap:
      return causal;
    default:
      return false;
  }
}

}  // namespace lincat::attention
