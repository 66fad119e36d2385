// The reference form (algorithms.md sections 4-6): dense n x n masks built from the key sets of
// each mode. Slow and obviously right; the other forms are tested against it, and the component
// diagnostics read its weights and branch shares. (Stage 1's attention-weight loss builds the
// same weights itself, one block of query rows at a time: train/attention_transfer.cpp.)
#pragma once
#include <torch/torch.h>

#include "lincat/attention/feature_map.h"
#include "lincat/attention/modes.h"

namespace lincat::attention {

// Optional outputs of the reference form, in the compute dtype (float32, float64 for float64).
struct AttentionDetails {
  at::Tensor weights;              // [B, H, T, T] normalised weight of value j in output i
  at::Tensor linear_share;         // [B, H, T] sum_{j in L(i)} phi_q . phi_k / den_i
  at::Tensor linear_output_share;  // [B, H, T] ||linear part of num_i|| / ||num_i|| (0 where num_i = 0)
};

// q [B, H, T, d]; k, v [B, Hkv, T, d] (post-RoPE, not GQA-expanded) -> [B, H, T, d] in q's dtype.
// Every mode but Softmax (refused with a UserError). Fills *details when given.
at::Tensor reference_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                               const HybridLayerWeights& weights, const HybridConfig& config,
                               Mode mode, AttentionDetails* details = nullptr);

}  // namespace lincat::attention
