// The fused decode kernel (kernels/hybrid_decode_cpu.h, what decode_step runs on the CPU in
// float32 and float64) against decode_step_with_operators, the libtorch form: step by step over a
// sequence several windows long, outputs and every buffer of the state, in every mode, layout,
// feature map, sink count, batch and GQA grouping.
#include <gtest/gtest.h>

#include "attention/attention_test_support.h"
#include "lincat/attention/recurrent.h"

namespace lincat::attention::testing {
namespace {

// Decodes every token of the inputs both ways from empty states, comparing after each step.
void expect_fused_matches_operators(const Shape& shape, const HybridConfig& config, Mode mode, at::ScalarType dtype) {
  SCOPED_TRACE(describe(shape, config, mode) + " B=" + std::to_string(shape.batch) + " " + c10::toString(dtype));
  const Inputs in = random_inputs(shape, config, 7);
  const at::NoGradGuard no_grad;
  HybridLayerWeights weights = in.weights;
  for (at::Tensor* w : {&weights.feature_q, &weights.feature_k, &weights.bias_q, &weights.bias_k, &weights.mixing_logit}) {
    if (w->defined()) *w = w->detach().to(dtype);
  }
  const at::Tensor q = in.q.detach().to(dtype), k = in.k.detach().to(dtype), v = in.v.detach().to(dtype);
  const double tolerance = dtype == at::kDouble ? 1e-12 : 2e-5;
  HybridLayerState fused, operators;
  for (int64_t t = 0; t < shape.length; ++t) {
    const at::Tensor qt = q.narrow(2, t, 1), kt = k.narrow(2, t, 1), vt = v.narrow(2, t, 1);
    const at::Tensor expected = detail::decode_step_with_operators(qt, kt, vt, weights, config, mode, operators);
    const at::Tensor actual = decode_step(qt, kt, vt, weights, config, mode, fused);
    ASSERT_EQ(actual.scalar_type(), dtype);
    ASSERT_TRUE(tensors_close(actual, expected, tolerance)) << "output at position " << t;
    ASSERT_TRUE(states_close(fused, operators, tolerance)) << "state after position " << t;
  }
}

const std::vector<Mode> kModes = {Mode::Hybrid, Mode::Window, Mode::Linear, Mode::Sinks, Mode::None, Mode::Overlap};

TEST(FusedDecode, MatchesOperatorsInEveryModeLayoutAndSinks) {
  Shape shape;
  shape.length = 19;  // past several windows of w = 4 (terraced: capacity 8)
  for (const at::ScalarType dtype : {at::kDouble, at::kFloat}) {
    for (const Mode mode : kModes) {
      for (const Layout layout : {Layout::Standard, Layout::Terraced}) {
        for (const int sinks : {0, 2}) {
          expect_fused_matches_operators(shape, small_config(layout, sinks, FeatureMapKind::Hedgehog), mode, dtype);
        }
      }
    }
  }
}

TEST(FusedDecode, MatchesOperatorsForEveryFeatureMap) {
  Shape shape;
  shape.length = 13;
  for (const FeatureMapKind map : all_feature_maps()) {
    for (const Mode mode : {Mode::Hybrid, Mode::Linear, Mode::Overlap}) {
      expect_fused_matches_operators(shape, small_config(Layout::Standard, 1, map), mode, at::kDouble);
    }
    expect_fused_matches_operators(shape, small_config(Layout::Terraced, 0, map), Mode::Hybrid, at::kFloat);
  }
}

TEST(FusedDecode, MatchesOperatorsForBatchesAndHeadGroupings) {
  for (const int64_t kv_heads : {1, 2, 4}) {
    Shape shape;
    shape.batch = 3;
    shape.kv_heads = kv_heads;
    shape.length = 10;
    expect_fused_matches_operators(shape, small_config(Layout::Standard, 2, FeatureMapKind::Hedgehog), Mode::Hybrid,
                                   at::kDouble);
  }
}

TEST(FusedDecode, OtherDtypesTakeTheOperatorPath) {
  // bfloat16 inputs keep a float32 linear state: the operator path, which the kernel must not claim.
  Shape shape;
  shape.length = 9;
  const HybridConfig config = small_config(Layout::Standard, 0, FeatureMapKind::Hedgehog);
  const Inputs in = random_inputs(shape, config, 3);
  const at::NoGradGuard no_grad;
  const at::Tensor q = in.q.detach().to(at::kBFloat16), k = in.k.detach().to(at::kBFloat16),
                   v = in.v.detach().to(at::kBFloat16);
  HybridLayerState a, b;
  for (int64_t t = 0; t < shape.length; ++t) {
    const at::Tensor x = decode_step(q.narrow(2, t, 1), k.narrow(2, t, 1), v.narrow(2, t, 1), in.weights, config,
                                     Mode::Hybrid, a);
    const at::Tensor y = detail::decode_step_with_operators(q.narrow(2, t, 1), k.narrow(2, t, 1), v.narrow(2, t, 1),
                                                            in.weights, config, Mode::Hybrid, b);
    ASSERT_TRUE(at::equal(x, y)) << "position " << t;
  }
  EXPECT_EQ(a.linear_state.scalar_type(), at::kFloat);
}

}  // namespace
}  // namespace lincat::attention::testing
