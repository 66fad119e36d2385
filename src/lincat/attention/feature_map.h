// Feature maps phi (algorithms.md section 3): one interface for every kind, separate weights for
// queries and keys, per layer and per query head.
#pragma once
#include <torch/torch.h>

#include <cstdint>

#include "lincat/attention/modes.h"

namespace lincat::attention {

// Hedgehog kinds clamp their features at this floor so that no feature is exactly zero.
inline constexpr double kHedgehogFeatureFloor = 1e-12;

struct HybridLayerWeights {
  at::Tensor feature_q;     // [H, d, f]; undefined for elu1/relu (no projection)
  at::Tensor feature_k;     // [H, d, f]; undefined for elu1/relu
  at::Tensor bias_q;        // [H, f], t2r only, else undefined
  at::Tensor bias_k;        // [H, f], t2r only, else undefined
  at::Tensor mixing_logit;  // [H]; gamma = sigmoid(mixing_logit)
};

// Which tensors a kind has: a projection [H, d, f] (hedgehog kinds, t2r), a bias [H, f] (t2r).
bool has_projection(FeatureMapKind kind);
bool has_bias(FeatureMapKind kind);

// Features per head after phi: 2f for hedgehog kinds, f for t2r, d for elu1/relu.
int64_t feature_count(const HybridConfig& config, int64_t head_dim);

// Identity-initialised weights: projections are the rectangular identity (the first f
// coordinates), biases zero, mixing_logit = logit(0.1).
HybridLayerWeights make_identity_weights(int64_t heads, int64_t head_dim,
                                         const HybridConfig& config,
                                         at::TensorOptions options = at::kFloat);

// phi(x): x [B, H, T, d] -> [B, H, T, F] with F = feature_count(kind, d). projection [H, d, f]
// and bias [H, f] may be undefined where the kind has none. Computes in x's dtype.
//   hedgehog:     [softmax(xA) ; softmax(-xA)], clamped at >= kHedgehogFeatureFloor.
//   hedgehog_exp: [exp(xA - m) ; exp(-xA - m)] with m = max_k |(xA)_k|, one shift per token for
//                 both halves. The shift is part of the map's definition, not a numerical trick:
//                 it depends on the token alone, so every form (and a key folded into the decode
//                 state on its own) gets the same features, and all features lie in (0, 1]. It
//                 does not cancel: per key it reweights keys (as hedgehog's softmax
//                 normalisation does), per query it scales the linear branch against the window.
//   t2r:          relu(xA + b).    elu1: 1 + elu(x).    relu: relu(x).
at::Tensor apply_feature_map(const at::Tensor& x, const at::Tensor& projection,
                             const at::Tensor& bias, FeatureMapKind kind);

// phi_q and phi_k with a layer's weights, in x's dtype (weights are cast to it).
at::Tensor query_features(const at::Tensor& x, const HybridLayerWeights& weights,
                          const HybridConfig& config);
at::Tensor key_features(const at::Tensor& x, const HybridLayerWeights& weights,
                        const HybridConfig& config);

}  // namespace lincat::attention
