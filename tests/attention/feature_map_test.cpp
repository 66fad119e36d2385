#include "lincat/attention/feature_map.h"

#include <gtest/gtest.h>

#include <cmath>

#include "attention/attention_test_support.h"

namespace lincat::attention {
namespace {

using testing::tensors_close;

HybridConfig config_of(FeatureMapKind kind, int feature_dim) {
  HybridConfig config;
  config.feature_map = kind;
  config.feature_dim = feature_dim;
  return config;
}

TEST(FeatureMap, FeatureCounts) {
  EXPECT_EQ(feature_count(config_of(FeatureMapKind::Hedgehog, 64), 128), 128);
  EXPECT_EQ(feature_count(config_of(FeatureMapKind::HedgehogExp, 32), 128), 64);
  EXPECT_EQ(feature_count(config_of(FeatureMapKind::T2R, 64), 128), 64);
  EXPECT_EQ(feature_count(config_of(FeatureMapKind::Elu1, 64), 128), 128);
  EXPECT_EQ(feature_count(config_of(FeatureMapKind::Relu, 64), 16), 16);
}

TEST(FeatureMap, IdentityInitialisation) {
  const HybridLayerWeights hedgehog = make_identity_weights(3, 4, config_of(FeatureMapKind::Hedgehog, 6));
  ASSERT_EQ(hedgehog.feature_q.sizes(), (at::IntArrayRef{3, 4, 6}));
  EXPECT_TRUE(at::equal(hedgehog.feature_q[2], at::eye(4, 6)));
  EXPECT_TRUE(at::equal(hedgehog.feature_k[0], at::eye(4, 6)));
  EXPECT_FALSE(hedgehog.bias_q.defined());
  ASSERT_EQ(hedgehog.mixing_logit.sizes(), (at::IntArrayRef{3}));
  EXPECT_NEAR(hedgehog.mixing_logit[1].item<double>(), -2.1972, 1e-4);
  EXPECT_NEAR(at::sigmoid(hedgehog.mixing_logit)[0].item<double>(), 0.1, 1e-6);

  const HybridLayerWeights t2r = make_identity_weights(2, 8, config_of(FeatureMapKind::T2R, 4));
  EXPECT_TRUE(at::equal(t2r.feature_k[1], at::eye(8, 4)));
  ASSERT_EQ(t2r.bias_k.sizes(), (at::IntArrayRef{2, 4}));
  EXPECT_EQ(t2r.bias_q.abs().sum().item<float>(), 0.0f);

  const HybridLayerWeights elu = make_identity_weights(2, 8, config_of(FeatureMapKind::Elu1, 4));
  EXPECT_FALSE(elu.feature_q.defined());
  EXPECT_TRUE(elu.mixing_logit.defined());
}

TEST(FeatureMap, HedgehogIsTwoSoftmaxesOverTheProjectedCoordinates) {
  const HybridConfig config = config_of(FeatureMapKind::Hedgehog, 3);
  const HybridLayerWeights weights = make_identity_weights(2, 4, config, at::kDouble);
  const at::Tensor x = at::randn({1, 2, 5, 4}, at::kDouble);  // [B, H, T, d]
  const at::Tensor phi = query_features(x, weights, config);  // [B, H, T, 6]
  const at::Tensor first = x.narrow(-1, 0, 3);                 // identity keeps coordinates 0..2
  EXPECT_TRUE(tensors_close(phi, at::cat({at::softmax(first, -1), at::softmax(-first, -1)}, -1), 1e-12));
}

TEST(FeatureMap, HedgehogFeaturesAreClampedAwayFromZero) {
  const HybridConfig config = config_of(FeatureMapKind::Hedgehog, 4);
  const HybridLayerWeights weights = make_identity_weights(1, 4, config, at::kDouble);
  const at::Tensor x = at::tensor({1000.0, 0.0, 0.0, -1000.0}, at::kDouble).view({1, 1, 1, 4});
  const at::Tensor phi = key_features(x, weights, config);  // [1, 1, 1, 8]
  EXPECT_DOUBLE_EQ(phi.min().item<double>(), kHedgehogFeatureFloor);
}

TEST(FeatureMap, HedgehogExpShiftsByTheLargestMagnitudeAndStaysFinite) {
  const HybridConfig config = config_of(FeatureMapKind::HedgehogExp, 2);
  const HybridLayerWeights weights = make_identity_weights(1, 2, config, at::kFloat);
  const at::Tensor x = at::tensor({3.0f, -5.0f, 800.0f, 1.0f}).view({1, 1, 2, 2});  // two tokens
  const at::Tensor phi = key_features(x, weights, config);                           // [1, 1, 2, 4]
  EXPECT_TRUE(at::isfinite(phi).all().item<bool>());
  // Token 0: xA = (3, -5), shift 5 for both halves: [e^-2, e^-10, e^-8, e^0].
  const at::Tensor expected =
      at::tensor({std::exp(-2.0f), std::exp(-10.0f), std::exp(-8.0f), 1.0f});
  EXPECT_TRUE(tensors_close(phi[0][0][0], expected, 1e-6));
  EXPECT_FLOAT_EQ(phi[0][0][1].max().item<float>(), 1.0f);  // token 1: shift 800
}

TEST(FeatureMap, T2RElu1AndRelu) {
  const at::Tensor x = at::randn({2, 3, 4, 5}, at::kDouble);  // [B, H, T, d]
  HybridConfig t2r = config_of(FeatureMapKind::T2R, 6);
  HybridLayerWeights weights = make_identity_weights(3, 5, t2r, at::kDouble);
  weights.feature_q = at::randn({3, 5, 6}, at::kDouble);
  weights.bias_q = at::randn({3, 6}, at::kDouble);
  const at::Tensor expected =  // [B, H, T, f]
      at::relu(at::einsum("bhtd,hdf->bhtf", {x, weights.feature_q}) + weights.bias_q.unsqueeze(1));
  EXPECT_TRUE(tensors_close(query_features(x, weights, t2r), expected, 1e-12));

  const HybridConfig elu = config_of(FeatureMapKind::Elu1, 6);
  EXPECT_TRUE(tensors_close(key_features(x, make_identity_weights(3, 5, elu), elu), 1 + at::elu(x), 1e-12));
  const HybridConfig relu = config_of(FeatureMapKind::Relu, 6);
  EXPECT_TRUE(tensors_close(key_features(x, make_identity_weights(3, 5, relu), relu), at::relu(x), 1e-12));
}

}  // namespace
}  // namespace lincat::attention
