#include "lincat/attention/feature_map.h"

#include <cmath>

namespace lincat::attention {
namespace {

bool is_hedgehog(FeatureMapKind kind) {
  return kind == FeatureMapKind::Hedgehog || kind == FeatureMapKind::HedgehogExp;
}

// x [B, H, T, d], projection [H, d, f] -> [B, H, T, f]
at::Tensor project(const at::Tensor& x, const at::Tensor& projection) {
  TORCH_CHECK(projection.defined() && projection.dim() == 3 &&
                  projection.size(0) == x.size(1) && projection.size(1) == x.size(3),
              "feature projection must be [H, d, f] = [", x.size(1), ", ", x.size(3),
              ", f], found ", projection.defined() ? projection.sizes() : at::IntArrayRef{});
  return at::matmul(x, projection.to(x.scalar_type()).unsqueeze(0));
}

}  // namespace

bool has_projection(FeatureMapKind kind) { return is_hedgehog(kind) || kind == FeatureMapKind::T2R; }
bool has_bias(FeatureMapKind kind) { return kind == FeatureMapKind::T2R; }

int64_t feature_count(const HybridConfig& config, int64_t head_dim) {
  switch (config.feature_map) {
    case FeatureMapKind::Hedgehog:
    case FeatureMapKind::HedgehogExp:
      return 2 * int64_t{config.feature_dim};
    case FeatureMapKind::T2R:
      return config.feature_dim;
    case FeatureMapKind::Elu1:
    case FeatureMapKind::Relu:
      return head_dim;
  }
  throw std::logic_error("unhandled feature map kind");
}

HybridLayerWeights make_identity_weights(int64_t heads, int64_t head_dim,
                                         const HybridConfig& config, at::TensorOptions options) {
  HybridLayerWeights weights;
  const int64_t f = config.feature_dim;
  if (has_projection(config.feature_map)) {
    // [H, d, f]: identity on the first min(d, f) coordinates
    const at::Tensor identity = at::eye(head_dim, f, options).unsqueeze(0).repeat({heads, 1, 1});
    weights.feature_q = identity.clone();
    weights.feature_k = identity.clone();
  }
  if (config.feature_map == FeatureMapKind::T2R) {
    weights.bias_q = at::zeros({heads, f}, options);  // [H, f]
    weights.bias_k = at::zeros({heads, f}, options);  // [H, f]
  }
  // [H], gamma = sigmoid(logit(0.1)) = 0.1
  weights.mixing_logit = at::full({heads}, std::log(0.1 / 0.9), options);
  return weights;
}

at::Tensor apply_feature_map(const at::Tensor& x, const at::Tensor& projection,
                             const at::Tensor& bias, FeatureMapKind kind) {
  TORCH_CHECK(x.dim() == 4, "feature map input must be [B, H, T, d], found ", x.sizes());
  switch (kind) {
    case FeatureMapKind::Hedgehog: {
      const at::Tensor xa = project(x, projection);  // [B, H, T, f]
      return at::cat({at::softmax(xa, -1), at::softmax(-xa, -1)}, -1)
          .clamp_min(kHedgehogFeatureFloor);  // [B, H, T, 2f]
    }
    case FeatureMapKind::HedgehogExp: {
      const at::Tensor xa = project(x, projection);             // [B, H, T, f]
      const at::Tensor shift = xa.abs().amax(-1, true);         // [B, H, T, 1]
      return at::cat({at::exp(xa - shift), at::exp(-xa - shift)}, -1);  // [B, H, T, 2f]
    }
    case FeatureMapKind::T2R: {
      TORCH_CHECK(bias.defined() && bias.dim() == 2 && bias.size(0) == x.size(1),
                  "t2r feature map needs a bias [H, f]");
      const at::Tensor xa = project(x, projection);  // [B, H, T, f]
      return at::relu(xa + bias.to(x.scalar_type()).unsqueeze(0).unsqueeze(2));  // [B, H, T, f]
    }
    case FeatureMapKind::Elu1:
      return 1 + at::elu(x);  // [B, H, T, d]
    case FeatureMapKind::Relu:
      return at::relu(x);  // [B, H, T, d]
  }
  throw std::logic_error("unhandled feature map kind");
}

at::Tensor query_features(const at::Tensor& x, const HybridLayerWeights& weights,
                          const HybridConfig& config) {
  return apply_feature_map(x, weights.feature_q, weights.bias_q, config.feature_map);
}

at::Tensor key_features(const at::Tensor& x, const HybridLayerWeights& weights,
                        const HybridConfig& config) {
  return apply_feature_map(x, weights.feature_k, weights.bias_k, config.feature_map);
}

}  // namespace lincat::attention
