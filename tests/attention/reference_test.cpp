#include "lincat/attention/reference.h"

#include <gtest/gtest.h>

#include <cmath>

#include "attention/attention_test_support.h"
#include "lincat/attention/chunked.h"
#include "lincat/attention/hybrid_attention.h"
#include "lincat/attention/recurrent.h"
#include "lincat/util/error.h"

namespace lincat::attention::testing {
namespace {

// W(i) written from algorithms.md section 2 without the library's predicate.
bool brute_window(int64_t i, int64_t j, const HybridConfig& config) {
  if (j > i) return false;
  if (j < config.sinks) return true;
  const int64_t w = config.window;
  if (config.layout == Layout::Standard) return i - w < j;
  return j / w == i / w || j / w == i / w - 1;
}

// y_i of algorithms.md sections 4-5 by explicit sums over the key sets, per query.
at::Tensor brute_force(const Inputs& in, const HybridConfig& config, Mode mode) {
  const int64_t batch = in.q.size(0), heads = in.q.size(1), length = in.q.size(2);
  const int64_t head_dim = in.q.size(3), group = heads / in.k.size(1);
  const at::Tensor q = in.q.detach(), k = in.k.detach(), v = in.v.detach();
  const at::Tensor phi_q = query_features(q, in.weights, config).detach();  // [B, H, T, F]
  const at::Tensor phi_k =                                                    // [B, H, T, F]
      key_features(k.repeat_interleave(group, 1), in.weights, config).detach();
  const at::Tensor gamma = at::sigmoid(in.weights.mixing_logit.detach());  // [H]
  at::Tensor y = at::zeros_like(q);                                         // [B, H, T, d]
  auto qa = q.accessor<double, 4>(), ka = k.accessor<double, 4>(), va = v.accessor<double, 4>();
  auto pq = phi_q.accessor<double, 4>(), pk = phi_k.accessor<double, 4>();
  auto ya = y.accessor<double, 4>();
  const bool both = mode == Mode::Hybrid || mode == Mode::Overlap;
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t h = 0; h < heads; ++h) {
      const int64_t g = h / group;
      const double weight = both ? gamma[h].item<double>() : 1.0;
      for (int64_t i = 0; i < length; ++i) {
        std::vector<int64_t> soft, linear;
        for (int64_t j = 0; j <= i; ++j) {
          const bool window = brute_window(i, j, config);
          if ((mode == Mode::Hybrid || mode == Mode::Window || mode == Mode::Overlap) && window) soft.push_back(j);
          if (mode == Mode::Sinks && j < config.sinks_mode_keys) soft.push_back(j);
          if ((mode == Mode::Hybrid && !window) || mode == Mode::Linear || mode == Mode::Overlap) linear.push_back(j);
        }
        if (mode == Mode::None) continue;
        auto score = [&](int64_t j) {
          double dot = 0;
          for (int64_t c = 0; c < head_dim; ++c) dot += qa[b][h][i][c] * ka[b][g][j][c];
          return dot / std::sqrt(static_cast<double>(head_dim));
        };
        double window_max = -INFINITY;
        for (int64_t j : soft) window_max = std::max(window_max, score(j));
        std::vector<double> num(head_dim, 0.0);
        double den = 0;
        auto add = [&](int64_t j, double term) {
          den += term;
          for (int64_t c = 0; c < head_dim; ++c) num[c] += term * va[b][g][j][c];
        };
        for (int64_t j : soft) add(j, weight * std::exp(score(j) - window_max));
        for (int64_t j : linear) {
          double dot = 0;
          for (int64_t f = 0; f < phi_q.size(3); ++f) dot += pq[b][h][i][f] * pk[b][h][j][f];
          add(j, dot);
        }
        for (int64_t c = 0; c < head_dim; ++c) ya[b][h][i][c] = num[c] / den;
      }
    }
  }
  return y;
}

// w = 3, f = 5: sizes the explicit sums below are written for.
HybridConfig reference_config(Layout layout, int sinks, FeatureMapKind map = FeatureMapKind::Hedgehog) {
  HybridConfig config = small_config(layout, sinks, map);
  config.window = 3;
  config.feature_dim = 5;
  config.sinks_mode_keys = 2;
  return config;
}

TEST(HybridReference, MatchesExplicitSumsOverTheKeySets) {
  Shape shape;
  shape.length = 10;
  shape.head_dim = 4;
  for (const Mode mode : {Mode::Hybrid, Mode::Window, Mode::Linear, Mode::Sinks, Mode::None, Mode::Overlap}) {
    for (const Layout layout : {Layout::Standard, Layout::Terraced}) {
      const HybridConfig config = reference_config(layout, 1);
      SCOPED_TRACE(describe(shape, config, mode));
      const Inputs in = random_inputs(shape, config, 7);
      const at::Tensor actual = reference_attention(in.q, in.k, in.v, in.weights, config, mode);
      EXPECT_TRUE(tensors_close(actual, brute_force(in, config, mode), 1e-12));
    }
  }
}

TEST(HybridReference, AttentionWeightsAndLinearShares) {
  Shape shape;
  shape.length = 9;
  const HybridConfig config = reference_config(Layout::Standard, 0);
  const Inputs in = random_inputs(shape, config, 3);
  AttentionDetails details;
  const at::Tensor output = reference_attention(in.q, in.k, in.v, in.weights, config, Mode::Hybrid, &details);

  const at::Tensor weights = details.weights;  // [B, H, T, T]
  ASSERT_EQ(weights.sizes(), (at::IntArrayRef{1, 4, 9, 9}));
  EXPECT_TRUE(tensors_close(weights.sum(-1), at::ones({1, 4, 9}, at::kDouble), 1e-12));
  EXPECT_EQ(weights.triu(1).abs().max().item<double>(), 0.0);  // causal
  const at::Tensor expanded_values = in.v.repeat_interleave(2, 1);  // [B, H, T, d]
  EXPECT_TRUE(tensors_close(at::matmul(weights, expanded_values), output, 1e-12));

  // The first w positions have no linear keys; later ones do.
  const at::Tensor share = details.linear_share;  // [B, H, T]
  EXPECT_EQ(share.narrow(-1, 0, 3).abs().max().item<double>(), 0.0);
  EXPECT_GT(share.narrow(-1, 3, 6).min().item<double>(), 0.0);
  EXPECT_LT(share.max().item<double>(), 1.0);
  // The share is the normalised weight on L(i) (keys j <= i - w).
  const at::Tensor linear_mask = at::ones({9, 9}, at::kDouble).tril(-3);  // [T, T]
  EXPECT_TRUE(tensors_close(share, (weights * linear_mask).sum(-1), 1e-12));
  const at::Tensor linear_output = at::matmul(weights * linear_mask, expanded_values);  // [B, H, T, d]
  EXPECT_TRUE(tensors_close(details.linear_output_share,
                            linear_output.norm(2, -1) / output.norm(2, -1), 1e-10));

  AttentionDetails linear, window;
  reference_attention(in.q, in.k, in.v, in.weights, config, Mode::Linear, &linear);
  reference_attention(in.q, in.k, in.v, in.weights, config, Mode::Window, &window);
  EXPECT_TRUE(tensors_close(linear.linear_share, at::ones_like(share), 1e-12));
  EXPECT_TRUE(tensors_close(linear.linear_output_share, at::ones_like(share), 1e-12));
  EXPECT_EQ(window.linear_share.abs().max().item<double>(), 0.0);
}

TEST(HybridReference, NoNaNWhereTheLinearNormaliserIsZero) {
  // At position 0 relu(q_0) . relu(k_0) = 0: den_0 = 0 in the linear mode.
  for (const FeatureMapKind map : {FeatureMapKind::Relu, FeatureMapKind::T2R}) {
    HybridConfig config = reference_config(Layout::Standard, 0, map);
    config.feature_dim = 8;  // t2r with identity weights is relu
    Shape shape;
    shape.heads = 2;
    shape.kv_heads = 2;
    shape.length = 5;
    Inputs in = random_inputs(shape, config, 5);
    in.weights = make_identity_weights(shape.heads, shape.head_dim, config, at::kDouble);
    for (at::Tensor* w : {&in.weights.feature_q, &in.weights.feature_k, &in.weights.bias_q, &in.weights.bias_k,
                          &in.weights.mixing_logit}) {
      if (w->defined()) w->requires_grad_(true);
    }
    const at::Tensor alternating = at::tensor({1.0, -1.0}, at::kDouble).repeat({shape.head_dim / 2});  // [d]
    {
      const at::NoGradGuard no_grad;
      in.q.narrow(2, 0, 1).copy_(alternating.view({1, 1, 1, -1}));
      in.k.narrow(2, 0, 1).copy_(-alternating.view({1, 1, 1, -1}));
    }
    SCOPED_TRACE(feature_map_name(map));
    for (const Form form : {Form::Reference, Form::Chunked}) {
      const at::Tensor y = hybrid_attention(in.q, in.k, in.v, in.weights, config, Mode::Linear, form);
      EXPECT_TRUE(at::isfinite(y).all().item<bool>()) << form_name(form);
      EXPECT_EQ(y.narrow(2, 0, 1).abs().max().item<double>(), 0.0) << form_name(form);
      for (const at::Tensor& grad : gradients(y, at::ones_like(y), in)) {
        EXPECT_TRUE(at::isfinite(grad).all().item<bool>()) << form_name(form);
      }
    }
    const at::NoGradGuard no_grad;
    HybridLayerState state;
    const at::Tensor first = decode_step(in.q.narrow(2, 0, 1), in.k.narrow(2, 0, 1), in.v.narrow(2, 0, 1),
                                         in.weights, config, Mode::Linear, state);
    EXPECT_EQ(first.abs().max().item<double>(), 0.0);
  }
}

TEST(HybridReference, EveryFormRefusesSoftmax) {
  const HybridConfig config = reference_config(Layout::Standard, 0);
  const Inputs in = random_inputs(Shape{}, config, 1);
  for (const Form form : {Form::Reference, Form::Chunked}) {
    EXPECT_THROW(hybrid_attention(in.q, in.k, in.v, in.weights, config, Mode::Softmax, form), UserError);
  }
  HybridLayerState state;
  EXPECT_THROW(prefill(in.q, in.k, in.v, in.weights, config, Mode::Softmax, state), UserError);
  EXPECT_THROW(decode_step(in.q.narrow(2, 0, 1), in.k.narrow(2, 0, 1), in.v.narrow(2, 0, 1), in.weights,
                           config, Mode::Softmax, state),
               UserError);
}

TEST(HybridReference, Float32InputsGiveFloat32OutputsMatchingAcrossForms) {
  HybridConfig config = reference_config(Layout::Terraced, 2);
  Shape shape;
  shape.length = 20;
  const Inputs in = random_inputs(shape, config, 9);
  const at::Tensor q = in.q.detach().to(at::kFloat), k = in.k.detach().to(at::kFloat);
  const at::Tensor v = in.v.detach().to(at::kFloat);
  const at::Tensor expected = reference_attention(q, k, v, in.weights, config, Mode::Hybrid);
  EXPECT_EQ(expected.scalar_type(), at::kFloat);
  EXPECT_TRUE(tensors_close(chunked_attention(q, k, v, in.weights, config, Mode::Hybrid), expected, 1e-5));
  EXPECT_EQ(chunked_attention(q.to(at::kBFloat16), k.to(at::kBFloat16), v.to(at::kBFloat16), in.weights,
                              config, Mode::Hybrid)
                .scalar_type(),
            at::kBFloat16);
}

}  // namespace
}  // namespace lincat::attention::testing
