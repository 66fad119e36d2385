// Softmax attention of one query row per head over consecutive cached keys, float32 on the CPU:
// the attention of an original model's decode step. libtorch spends a dozen operators a layer on
// it (two batched products through BLAS, a mask built from position ranges, a softmax), several
// percent of a 100M model's step (docs/BENCHMARKS.md); here it is one pass per head. The caller
// picks the keys the query sees (attention/window.h's teacher rule); this file only computes.
// No torch here: raw pointers.
#pragma once
#include <cstdint>

namespace lincat::kernels {

struct SoftmaxDecodeRow {
  int64_t heads = 0, kv_heads = 0, head_dim = 0;
  int64_t keys = 0;             // S: the keys the query sees, consecutive rows of d floats
  const float* q = nullptr;     // [H, d]
  const float* k = nullptr;     // row j of key head g at k + g * kv_head_stride + j * d
  const float* v = nullptr;     // likewise
  int64_t kv_head_stride = 0;
  float scale = 0;              // on the scores: 1 / sqrt(d)
  float* out = nullptr;         // [H, d]
};

// out[h] = sum_j p_j v[g, j] with p = softmax_j(scale * (q[h] . k[g, j])), g = h / (H / Hkv),
// scores in float32 as transformers' eager attention. Requires kernels::matvec_available() and
// keys >= 1.
void softmax_decode_row(const SoftmaxDecodeRow& a);

}  // namespace lincat::kernels
