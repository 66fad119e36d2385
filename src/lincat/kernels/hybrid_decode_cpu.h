// One decode step of a hybrid-family layer (algorithms.md section 6.3) as one pass over its small
// state, for float32 or float64 on the CPU: the libtorch form (attention/recurrent.cpp,
// decode_step's reference path) spends several dozen operator calls per layer on a few thousand
// multiply-adds. The caller decides which keys enter which set (attention/key_sets.h); this file
// only computes. No torch here: raw pointers, contiguous row-major buffers.
#pragma once
#include <cstdint>
#include <vector>

#include "lincat/attention/modes.h"

namespace lincat::kernels {

template <typename T>
struct HybridDecodeStep {
  int64_t batch = 0, heads = 0, kv_heads = 0, head_dim = 0;
  attention::FeatureMapKind feature_map = attention::FeatureMapKind::Hedgehog;
  int64_t projection_dim = 0;  // f: columns of the feature projections (hedgehog kinds, t2r)
  int64_t features = 0;        // F: features per head after phi

  const T* q = nullptr;  // [B, H, d]   this token's query, post-RoPE
  const T* k = nullptr;  // [B, Hkv, d] its key
  const T* v = nullptr;  // [B, Hkv, d] its value
  T* out = nullptr;      // [B, H, d]

  // Window ring [B, Hkv, capacity, d] and sink buffer [B, Hkv, sinks, d]: null where absent.
  T* ring_keys = nullptr;
  T* ring_values = nullptr;
  int64_t capacity = 0;
  T* sink_keys = nullptr;
  T* sink_values = nullptr;
  int64_t sinks = 0;
  // Linear state S [B, H, F, d] and z [B, H, F]: null without a linear branch.
  T* linear_state = nullptr;
  T* linear_normaliser = nullptr;

  const T* feature_q = nullptr;  // [H, d, f]; null for elu1/relu
  const T* feature_k = nullptr;  // [H, d, f]
  const T* bias_q = nullptr;     // [H, f], t2r only
  const T* bias_k = nullptr;     // [H, f]
  const T* gamma = nullptr;      // [H] weight of the softmax branch; null: 1 (branch not mixed)

  // The step, in order: ring slots whose keys enter the linear set (read before any write), then
  // whether this token's own key enters it, then where its key and value are written (-1: not
  // written), then which ring and sink slots the softmax branch reads (empty: no softmax branch).
  std::vector<int64_t> entering_slots;
  bool fold_own_key = false;
  int64_t ring_slot = -1;
  int64_t sink_slot = -1;
  std::vector<char> ring_in_softmax;  // [capacity]
  std::vector<char> sink_in_softmax;  // [sinks]
  bool softmax_branch = false;
  bool linear_branch = false;
  double denominator_floor = 0;  // the normaliser is floored here before dividing
};

// Updates the state and writes the output of the step.
template <typename T>
void run_hybrid_decode_step(const HybridDecodeStep<T>& step);

extern template void run_hybrid_decode_step<float>(const HybridDecodeStep<float>&);
extern template void run_hybrid_decode_step<double>(const HybridDecodeStep<double>&);

}  // namespace lincat::kernels
