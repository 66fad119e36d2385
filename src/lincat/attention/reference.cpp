#include "lincat/attention/reference.h"

#include <cmath>
#include <limits>

#include "lincat/attention/form_support.h"
#include "lincat/attention/key_sets.h"

namespace lincat::attention {

at::Tensor reference_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                               const HybridLayerWeights& weights, const HybridConfig& config,
                               Mode mode, AttentionDetails* details) {
  require_hybrid_mode(mode);
  validate(config);
  detail::check_inputs(q, k, v, weights, config);
  const at::ScalarType dtype = detail::compute_dtype(q);
  const int64_t heads = q.size(1), length = q.size(2), head_dim = q.size(3);

  const at::Tensor queries = q.to(dtype);                                // [B, H, T, d]
  const at::Tensor keys = detail::expand_kv(k.to(dtype), heads);         // [B, H, T, d]
  const at::Tensor values = detail::expand_kv(v.to(dtype), heads);       // [B, H, T, d]

  // Unnormalised weight of value j in output i, split by branch: [B, H, T, T] each.
  at::Tensor softmax_terms = at::zeros({q.size(0), heads, length, length}, queries.options());
  at::Tensor linear_terms = at::zeros_like(softmax_terms);
  if (has_softmax_branch(mode)) {
    const at::Tensor mask = detail::build_mask(  // [T, T]
        length, length, [&](int64_t i, int64_t j) { return in_softmax_set(mode, i, j, config); },
        q.device());
    const at::Tensor scores =  // [B, H, T, T], s_ij = q_i . k_j / sqrt(d), outside the set -inf
        at::matmul(queries, keys.transpose(-1, -2))
            .div(std::sqrt(static_cast<double>(head_dim)))
            .masked_fill(~mask, -std::numeric_limits<double>::infinity());
    // [B, H, T, 1], c_i over the set only
    const at::Tensor window_max = std::get<0>(scores.max(-1, true));
    softmax_terms = at::exp(scores - window_max) *
                    detail::softmax_branch_weight(weights, mode, 2, dtype);
  }
  if (has_linear_branch(mode)) {
    const at::Tensor mask = detail::build_mask(  // [T, T]
        length, length, [&](int64_t i, int64_t j) { return in_linear_set(mode, i, j, config); },
        q.device());
    const at::Tensor phi_q = query_features(queries, weights, config);  // [B, H, T, F]
    const at::Tensor phi_k = key_features(keys, weights, config);       // [B, H, T, F]
    // Not shifted by c_i and no 1/sqrt(d): c_i sets the balance between the branches.
    linear_terms = at::matmul(phi_q, phi_k.transpose(-1, -2)) * mask.to(dtype);  // [B, H, T, T]
  }

  const at::Tensor terms = softmax_terms + linear_terms;  // [B, H, T, T]
  const at::Tensor numerator = at::matmul(terms, values);  // [B, H, T, d]
  const at::Tensor normaliser = terms.sum(-1);             // [B, H, T]
  const at::Tensor output = detail::divide_by_normaliser(numerator, normaliser);  // [B, H, T, d]

  if (details != nullptr) {
    const at::Tensor floored = normaliser.clamp_min(detail::kDenominatorFloor);  // [B, H, T]
    details->weights = terms / floored.unsqueeze(-1);                           // [B, H, T, T]
    details->linear_share = linear_terms.sum(-1) / floored;                     // [B, H, T]
    const at::Tensor linear_numerator = at::matmul(linear_terms, values);       // [B, H, T, d]
    details->linear_output_share =                                              // [B, H, T]
        linear_numerator.norm(2, -1) /
        numerator.norm(2, -1).clamp_min(std::numeric_limits<float>::min());
  }
  return output.to(q.scalar_type());
}

}  // namespace lincat::attention
