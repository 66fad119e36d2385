// The chunked form (algorithms.md section 6.2), for training and prefill: chunk size C = w, no
// n x n tensor, memory linear in n, vectorised over chunks. Plain torch ops: autograd works.
#pragma once
#include <torch/torch.h>

#include "lincat/attention/feature_map.h"
#include "lincat/attention/modes.h"

namespace lincat::attention {

// q [B, H, T, d]; k, v [B, Hkv, T, d] (post-RoPE, not GQA-expanded) -> [B, H, T, d] in q's dtype.
// Same result as reference_attention for every mode but Softmax (refused with a UserError).
at::Tensor chunked_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                             const HybridLayerWeights& weights, const HybridConfig& config,
                             Mode mode);

}  // namespace lincat::attention
