// The chunked form (algorithms.md section 6.2), for training and prefill: chunk size C = w, no
// n x n tensor, memory linear in n, vectorised over chunks. Plain torch ops: autograd works.
#pragma once
#include <torch/torch.h>

#include "lincat/attention/feature_map.h"
#include "lincat/attention/modes.h"

namespace lincat::attention {

// q [B, H, T, d]; k, v [B, Hkv, T, d] (post-RoPE, not GQA-expanded) -> [B, H, T, d] in q's dtype.
// Same result as reference_attention for every mode but Softmax (refused with a UserError).
// Without autograd, heads are processed in groups that bound the temporaries to about 1 GiB.
at::Tensor chunked_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                             const HybridLayerWeights& weights, const HybridConfig& config,
                             Mode mode);

namespace detail {

// The chunked form run on heads_per_pass query heads at a time (a multiple of H / Hkv); the
// result does not depend on it. chunked_attention picks it from a memory budget when autograd is
// off, and takes all heads at once otherwise.
at::Tensor chunked_attention_by_heads(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                      const HybridLayerWeights& weights, const HybridConfig& config,
                                      Mode mode, int64_t heads_per_pass);

}  // namespace detail

}  // namespace lincat::attention
