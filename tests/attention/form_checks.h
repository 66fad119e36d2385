// The agreement checks between forms, shared by the fast covering tests and the slow sweeps.
#pragma once
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "attention/attention_test_support.h"
#include "lincat/attention/chunked.h"
#include "lincat/attention/recurrent.h"
#include "lincat/attention/reference.h"

namespace lincat::attention::testing {

// Chunked equals reference in float64: outputs and the gradient of every differentiable input.
inline void expect_chunked_matches_reference(const Shape& shape, const HybridConfig& config,
                                             Mode mode, uint64_t seed = 1) {
  SCOPED_TRACE(describe(shape, config, mode));
  const Inputs in = random_inputs(shape, config, seed);
  const at::Tensor expected = reference_attention(in.q, in.k, in.v, in.weights, config, mode);
  const at::Tensor actual = chunked_attention(in.q, in.k, in.v, in.weights, config, mode);
  ASSERT_TRUE(tensors_close(actual, expected)) << "outputs";
  const at::Tensor upstream = at::randn_like(expected);  // [B, H, T, d]
  const auto expected_grads = gradients(expected, upstream, in);
  const auto actual_grads = gradients(actual, upstream, in);
  const auto names = differentiable(in);
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_TRUE(tensors_close(actual_grads[i], expected_grads[i])) << "gradient of " << names[i].first;
  }
}

// Prefill of the first `prefill_length` tokens then one decode step per remaining token equals
// the reference over the whole sequence. prefill_length 0 decodes everything from an empty state.
inline void expect_decode_matches_reference(const Shape& shape, const HybridConfig& config,
                                            Mode mode, int64_t prefill_length, uint64_t seed = 2) {
  SCOPED_TRACE(describe(shape, config, mode) + " prefill=" + std::to_string(prefill_length));
  const Inputs in = random_inputs(shape, config, seed);
  const at::NoGradGuard no_grad;
  const at::Tensor expected = reference_attention(in.q, in.k, in.v, in.weights, config, mode);
  HybridLayerState state;
  std::vector<at::Tensor> outputs;  // each [B, H, t, d]
  if (prefill_length > 0) {
    outputs.push_back(prefill(in.q.narrow(2, 0, prefill_length), in.k.narrow(2, 0, prefill_length),
                              in.v.narrow(2, 0, prefill_length), in.weights, config, mode, state));
  }
  for (int64_t t = prefill_length; t < shape.length; ++t) {
    outputs.push_back(decode_step(in.q.narrow(2, t, 1), in.k.narrow(2, t, 1), in.v.narrow(2, t, 1),
                                  in.weights, config, mode, state));
  }
  EXPECT_EQ(state.tokens_seen, shape.length);
  EXPECT_TRUE(tensors_close(at::cat(outputs, 2), expected));
}

}  // namespace lincat::attention::testing
