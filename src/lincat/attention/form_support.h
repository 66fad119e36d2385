// Pieces shared by the reference, chunked and recurrent forms: input checks, the compute dtype,
// GQA expansion, the branch weight gamma, mask construction and the guarded division.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <functional>

#include "lincat/attention/feature_map.h"
#include "lincat/attention/modes.h"

namespace lincat::attention::detail {

// Floor of every normaliser den_i before dividing. It only matters where no softmax term exists
// (the linear mode, or feature maps such as relu/t2r that can give phi_q . phi_k = 0): there
// num_i is 0 too and y_i becomes 0 instead of NaN. Where a softmax term exists den_i >= gamma.
inline constexpr double kDenominatorFloor = 1e-6;

// float64 inputs compute in float64 (so tests can compare tightly); everything else in float32.
at::ScalarType compute_dtype(const at::Tensor& q);

// Checks q [B, H, T, d], k and v [B, Hkv, T, d] with H a multiple of Hkv, and the weights' shapes.
void check_inputs(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                  const HybridLayerWeights& weights, const HybridConfig& config);

// [B, Hkv, T, e] -> [B, H, T, e]: query head h reads kv head h / (H / Hkv).
at::Tensor expand_kv(const at::Tensor& kv, int64_t heads);

// Weight of the softmax branch, broadcastable over [B, H, ...] with `trailing` dims after H:
// gamma = sigmoid(mixing_logit) when a linear branch shares the normaliser, else 1.
at::Tensor softmax_branch_weight(const HybridLayerWeights& weights, Mode mode, int64_t trailing,
                                 at::ScalarType dtype);

// [rows, cols] bool tensor on `device`: element (r, c) = include(r, c).
at::Tensor build_mask(int64_t rows, int64_t cols, const std::function<bool(int64_t, int64_t)>& include,
                      const at::Device& device);

// num [..., d] / den [...], with den floored at kDenominatorFloor.
at::Tensor divide_by_normaliser(const at::Tensor& num, const at::Tensor& den);

}  // namespace lincat::attention::detail
