// Per-layer decode state of the recurrent form (algorithms.md section 6.3). Its size is fixed by
// the batch, the heads and the config when the first token arrives; it never grows with context.
#pragma once
#include <torch/torch.h>

#include <cstdint>

#include "lincat/attention/modes.h"

namespace lincat::attention {

struct HybridLayerState {
  // The mode the state was built for; calls with another mode are refused (the buffers differ).
  Mode mode = Mode::Hybrid;
  int64_t tokens_seen = 0;
  // Ring buffer of the window's post-RoPE keys and values, in the input dtype; position p lives in
  // slot p % capacity (capacity w, 2w for terraced). Hybrid, window and overlap modes.
  at::Tensor window_keys;    // [B, Hkv, capacity, d]
  at::Tensor window_values;  // [B, Hkv, capacity, d]
  // The first s positions: config.sinks (hybrid, window, overlap) or sinks_mode_keys (sinks).
  at::Tensor sink_keys;    // [B, Hkv, s, d]
  at::Tensor sink_values;  // [B, Hkv, s, d]
  // Linear state in the compute dtype (float32; float64 for float64 inputs): every key of the
  // linear set so far, S = sum phi_k(k_j)^T v_j and z = sum phi_k(k_j). Hybrid, linear, overlap.
  at::Tensor linear_state;       // [B, H, F, d]
  at::Tensor linear_normaliser;  // [B, H, F]

  bool empty() const { return tokens_seen == 0; }
  // Memory held by the buffers; independent of the context length.
  int64_t bytes() const;
};

}  // namespace lincat::attention
