// The CPU kernel of the chunked form (attention/chunked_kernel.h) against the reference form and
// the libtorch chunked form: outputs and every gradient in float64, float32 at a larger size, and
// where it applies.
#include <gtest/gtest.h>

#include "attention/form_checks.h"
#include "lincat/attention/chunked_kernel.h"

namespace lincat::attention::testing {
namespace {

const std::vector<Mode> kKernelModes = {Mode::Hybrid, Mode::Window, Mode::Linear, Mode::Overlap};

// The kernel applies to this case (so that the checks below test it, not the operators).
void expect_kernel_applies(const Inputs& in, const HybridConfig& config, Mode mode) {
  ASSERT_TRUE(detail::chunked_kernel_applies(in.q, config, mode, ChunkedHistory{}))
      << "no BLAS gemm in this process, or the case is not covered";
}

// The kernel (through chunked_attention) and the libtorch form both equal the reference, outputs
// and gradients; without autograd the kernel gives the same output as with it.
void expect_kernel_and_operators_match_reference(const Shape& shape, const HybridConfig& config, Mode mode) {
  SCOPED_TRACE(describe(shape, config, mode));
  const Inputs in = random_inputs(shape, config, 7);
  expect_kernel_applies(in, config, mode);
  expect_chunked_matches_reference(shape, config, mode, 7);

  const at::Tensor expected = reference_attention(in.q, in.k, in.v, in.weights, config, mode);
  const at::Tensor operators = detail::chunked_attention_by_heads(
      in.q, in.k, in.v, in.weights, config, mode, shape.heads, ChunkedHistory{}, false);
  ASSERT_TRUE(tensors_close(operators, expected)) << "libtorch form";
  const at::Tensor upstream = at::randn_like(expected);
  const auto expected_grads = gradients(expected, upstream, in);
  const auto operator_grads = gradients(operators, upstream, in);
  const auto names = differentiable(in);
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_TRUE(tensors_close(operator_grads[i], expected_grads[i])) << "libtorch form, gradient of " << names[i].first;
  }

  const at::Tensor with_graph = chunked_attention(in.q, in.k, in.v, in.weights, config, mode);
  const at::NoGradGuard no_grad;
  EXPECT_TRUE(at::equal(chunked_attention(in.q, in.k, in.v, in.weights, config, mode), with_graph.detach()));
}

TEST(ChunkedKernel, MatchesReferenceForEveryModeLengthAndLayout) {
  // T < w, T = w, one past, whole chunks, a partial last chunk after many; GQA and not; batch 2.
  for (const Mode mode : kKernelModes) {
    for (const int64_t length : {1, 3, 4, 5, 8, 11, 37}) {
      for (const int64_t kv_heads : {2, 4}) {
        for (const Layout layout : {Layout::Standard, Layout::Terraced}) {
          Shape shape;
          shape.batch = 2;
          shape.length = length;
          shape.kv_heads = kv_heads;
          expect_kernel_and_operators_match_reference(shape, small_config(layout, 0), mode);
        }
      }
    }
  }
}

TEST(ChunkedKernel, MatchesReferenceForEveryFeatureMap) {
  Shape shape;
  shape.length = 14;
  for (const FeatureMapKind map : all_feature_maps()) {
    for (const Mode mode : {Mode::Hybrid, Mode::Linear, Mode::Overlap}) {
      for (const Layout layout : {Layout::Standard, Layout::Terraced}) {
        expect_kernel_and_operators_match_reference(shape, small_config(layout, 0, map), mode);
      }
    }
  }
}

// float32 at a size closer to real ones (w = 16, d = 32, 300 tokens), every mode the kernel
// covers: the kernel and the libtorch form against the float64 reference, outputs and gradients.
TEST(ChunkedKernel, Float32AgreesWithTheFloat64Reference) {
  Shape shape;
  shape.batch = 1;
  shape.heads = 4;
  shape.kv_heads = 2;
  shape.length = 300;
  shape.head_dim = 32;
  HybridConfig config = small_config(Layout::Standard, 0);
  config.window = 16;
  config.feature_dim = 16;
  for (const Mode mode : kKernelModes) {
    SCOPED_TRACE(mode_name(mode));
    const Inputs in = random_inputs(shape, config, 11);
    expect_kernel_applies(in, config, mode);
    const at::Tensor expected = reference_attention(in.q, in.k, in.v, in.weights, config, mode);
    const at::Tensor upstream = at::randn_like(expected);
    const auto expected_grads = gradients(expected, upstream, in);
    Inputs single;
    single.q = in.q.detach().to(at::kFloat).requires_grad_(true);
    single.k = in.k.detach().to(at::kFloat).requires_grad_(true);
    single.v = in.v.detach().to(at::kFloat).requires_grad_(true);
    single.weights = in.weights;  // float64 weights are cast by the forms; their gradients stay float64
    for (const bool kernel : {true, false}) {
      SCOPED_TRACE(kernel ? "kernel" : "libtorch form");
      const at::Tensor actual =
          kernel ? chunked_attention(single.q, single.k, single.v, single.weights, config, mode)
                 : detail::chunked_attention_with_operators(single.q, single.k, single.v, single.weights, config,
                                                            mode);
      EXPECT_EQ(actual.scalar_type(), at::kFloat);
      EXPECT_TRUE(tensors_close(actual.to(at::kDouble), expected, 1e-5));
      const auto actual_grads = gradients(actual, upstream.to(at::kFloat), single);
      const auto names = differentiable(in);
      for (size_t i = 0; i < names.size(); ++i) {
        EXPECT_TRUE(tensors_close(actual_grads[i].to(at::kDouble), expected_grads[i], 1e-4)) << "gradient of " << names[i].first;
      }
    }
  }
}

TEST(ChunkedKernel, AppliesWithoutSinksFromPositionZeroOnTheCpu) {
  const Shape shape;
  const HybridConfig config = small_config(Layout::Standard, 0);
  const Inputs in = random_inputs(shape, config, 3);
  for (const Mode mode : kKernelModes) {
    EXPECT_TRUE(detail::chunked_kernel_applies(in.q, config, mode, ChunkedHistory{})) << mode_name(mode);
  }
  EXPECT_TRUE(detail::chunked_kernel_applies(in.q.to(at::kBFloat16), config, Mode::Hybrid, ChunkedHistory{}));
  EXPECT_FALSE(detail::chunked_kernel_applies(in.q, small_config(Layout::Standard, 2), Mode::Hybrid, ChunkedHistory{}));
  for (const Mode mode : {Mode::Sinks, Mode::None}) {
    EXPECT_FALSE(detail::chunked_kernel_applies(in.q, config, mode, ChunkedHistory{})) << mode_name(mode);
  }
  ChunkedHistory history;
  history.offset = config.window;
  EXPECT_FALSE(detail::chunked_kernel_applies(in.q, config, Mode::Hybrid, history));
}

}  // namespace
}  // namespace lincat::attention::testing
