// Shared helpers of the attention tests: random float64 inputs and weights, gradients of a fixed
// random projection of an output, and tensor comparison with a readable failure.
#pragma once
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sstream>
#include <string>
#include <vector>

#include "lincat/attention/feature_map.h"
#include "lincat/attention/hybrid_layer_state.h"
#include "lincat/attention/modes.h"

namespace lincat::attention::testing {

struct Shape {
  int64_t batch = 1;
  int64_t heads = 4;
  int64_t kv_heads = 2;
  int64_t length = 11;
  int64_t head_dim = 8;
};

struct Inputs {
  at::Tensor q;  // [B, H, T, d]
  at::Tensor k;  // [B, Hkv, T, d]
  at::Tensor v;  // [B, Hkv, T, d]
  HybridLayerWeights weights;
};

// float64 inputs and weights that require grad. Weights are the identity initialisation plus
// noise, so that every parameter has a non-trivial gradient.
inline Inputs random_inputs(const Shape& shape, const HybridConfig& config, uint64_t seed) {
  at::manual_seed(seed);
  const at::TensorOptions options = at::kDouble;
  Inputs in;
  in.q = at::randn({shape.batch, shape.heads, shape.length, shape.head_dim}, options);
  in.k = at::randn({shape.batch, shape.kv_heads, shape.length, shape.head_dim}, options);
  in.v = at::randn({shape.batch, shape.kv_heads, shape.length, shape.head_dim}, options);
  in.weights = make_identity_weights(shape.heads, shape.head_dim, config, options);
  for (at::Tensor* w : {&in.weights.feature_q, &in.weights.feature_k, &in.weights.bias_q,
                        &in.weights.bias_k, &in.weights.mixing_logit}) {
    if (w->defined()) *w = (*w + 0.3 * at::randn_like(*w)).detach();
  }
  for (at::Tensor* t : {&in.q, &in.k, &in.v, &in.weights.feature_q, &in.weights.feature_k,
                        &in.weights.bias_q, &in.weights.bias_k, &in.weights.mixing_logit}) {
    if (t->defined()) t->requires_grad_(true);
  }
  return in;
}

// Every differentiable tensor of the inputs, with a name for messages.
inline std::vector<std::pair<std::string, at::Tensor>> differentiable(const Inputs& in) {
  std::vector<std::pair<std::string, at::Tensor>> all = {
      {"q", in.q},
      {"k", in.k},
      {"v", in.v},
      {"feature_q", in.weights.feature_q},
      {"feature_k", in.weights.feature_k},
      {"bias_q", in.weights.bias_q},
      {"bias_k", in.weights.bias_k},
      {"mixing_logit", in.weights.mixing_logit}};
  std::vector<std::pair<std::string, at::Tensor>> defined;
  for (auto& entry : all) {
    if (entry.second.defined()) defined.push_back(entry);
  }
  return defined;
}

// Gradients of sum(output * upstream) w.r.t. each differentiable input; unused inputs get zeros.
inline std::vector<at::Tensor> gradients(const at::Tensor& output, const at::Tensor& upstream,
                                         const Inputs& in) {
  const auto wrt = differentiable(in);
  std::vector<at::Tensor> tensors;
  for (const auto& entry : wrt) tensors.push_back(entry.second);
  std::vector<at::Tensor> grads;
  if (output.requires_grad()) {
    grads = torch::autograd::grad({(output * upstream).sum()}, tensors, {}, false, false, true);
  } else {
    grads.resize(tensors.size());
  }
  for (size_t i = 0; i < grads.size(); ++i) {
    if (!grads[i].defined()) grads[i] = at::zeros_like(tensors[i]);
  }
  return grads;
}

inline std::string describe(const Shape& shape, const HybridConfig& config, Mode mode) {
  std::ostringstream out;
  out << "mode=" << mode_name(mode) << " map=" << feature_map_name(config.feature_map)
      << " layout=" << layout_name(config.layout) << " w=" << config.window
      << " sinks=" << config.sinks << " H=" << shape.heads << " Hkv=" << shape.kv_heads
      << " T=" << shape.length;
  return out.str();
}

inline ::testing::AssertionResult tensors_close(const at::Tensor& actual, const at::Tensor& expected,
                                                double tolerance = 1e-9) {
  if (actual.sizes() != expected.sizes()) {
    return ::testing::AssertionFailure() << "shape " << actual.sizes() << " vs " << expected.sizes();
  }
  if (!at::isfinite(actual).all().item<bool>()) {
    return ::testing::AssertionFailure() << "non-finite values";
  }
  const double error = (actual - expected).abs().max().item<double>();
  const double scale = 1.0 + expected.abs().max().item<double>();
  if (error > tolerance * scale) {
    return ::testing::AssertionFailure() << "max abs difference " << error << " (scale " << scale
                                         << ")";
  }
  return ::testing::AssertionSuccess();
}

// The small setting of the covering tests: w = 4, f = 6, s = 3 keys in the sinks mode.
inline HybridConfig small_config(Layout layout, int sinks, FeatureMapKind map = FeatureMapKind::Hedgehog) {
  HybridConfig config;
  config.window = 4;
  config.layout = layout;
  config.sinks = sinks;
  config.feature_map = map;
  config.feature_dim = 6;
  config.sinks_mode_keys = 3;
  return config;
}

// Two decode states hold the same tokens and buffers (each buffer as tensors_close).
inline ::testing::AssertionResult states_close(const HybridLayerState& actual, const HybridLayerState& expected,
                                               double tolerance = 1e-9) {
  if (actual.tokens_seen != expected.tokens_seen) {
    return ::testing::AssertionFailure() << "tokens_seen " << actual.tokens_seen << " vs " << expected.tokens_seen;
  }
  const std::vector<std::pair<const char*, std::pair<at::Tensor, at::Tensor>>> parts = {
      {"window_keys", {actual.window_keys, expected.window_keys}},
      {"window_values", {actual.window_values, expected.window_values}},
      {"sink_keys", {actual.sink_keys, expected.sink_keys}},
      {"sink_values", {actual.sink_values, expected.sink_values}},
      {"linear_state", {actual.linear_state, expected.linear_state}},
      {"linear_normaliser", {actual.linear_normaliser, expected.linear_normaliser}}};
  for (const auto& [name, pair] : parts) {
    if (pair.first.defined() != pair.second.defined()) return ::testing::AssertionFailure() << name << " defined?";
    if (!pair.first.defined()) continue;
    const ::testing::AssertionResult close = tensors_close(pair.first, pair.second, tolerance);
    if (!close) return ::testing::AssertionFailure() << name << ": " << close.message();
  }
  return ::testing::AssertionSuccess();
}

}  // namespace lincat::attention::testing
