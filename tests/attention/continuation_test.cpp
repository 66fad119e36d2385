// The continuations of a decode state against the per-token path: the chunked form
// (continue_chunked) gives the same outputs and state up to rounding, the recurrent kernel
// (continue_recurrent) the same bits, in float64, for every mode, layout and sink count, for
// continuations of 1, w - 1, w and 3w + 5 tokens after prefixes of every residue mod w, both
// shorter than the window buffer and past it. continue_state picks between them.
#include <gtest/gtest.h>

#include "attention/attention_test_support.h"
#include "lincat/attention/chunked.h"
#include "lincat/attention/recurrent.h"
#include "lincat/attention/reference.h"

namespace lincat::attention::testing {
namespace {

const std::vector<Mode> kHybridForms = {Mode::Hybrid, Mode::Window, Mode::Linear,
                                        Mode::Sinks,  Mode::None,   Mode::Overlap};

// Tokens first .. first + count of the inputs.
at::Tensor tokens(const at::Tensor& x, int64_t first, int64_t count) { return x.narrow(2, first, count); }

// The state after prefilling the first `prefix` tokens (none: an empty state).
HybridLayerState prefilled(const Inputs& in, int64_t prefix, const HybridConfig& config, Mode mode) {
  HybridLayerState state;
  if (prefix > 0) {
    prefill(tokens(in.q, 0, prefix), tokens(in.k, 0, prefix), tokens(in.v, 0, prefix), in.weights,
            config, mode, state);
  }
  return state;
}

// Continues a prefix of `prefix` tokens by `count` tokens once with continue_chunked and once
// token by token with decode_step; outputs and states must agree.
void expect_continuation_matches_per_token(const Shape& shape, const HybridConfig& config, Mode mode,
                                           int64_t prefix, int64_t count) {
  SCOPED_TRACE(describe(shape, config, mode) + " prefix=" + std::to_string(prefix) +
               " continuation=" + std::to_string(count));
  const Inputs in = random_inputs(shape, config, 7);
  const at::NoGradGuard no_grad;
  HybridLayerState per_token = prefilled(in, prefix, config, mode);
  std::vector<at::Tensor> expected;  // each [B, H, 1, d]
  for (int64_t t = prefix; t < prefix + count; ++t) {
    expected.push_back(decode_step(tokens(in.q, t, 1), tokens(in.k, t, 1), tokens(in.v, t, 1), in.weights,
                                   config, mode, per_token));
  }
  HybridLayerState chunked = prefilled(in, prefix, config, mode);
  const at::Tensor actual = continue_chunked(tokens(in.q, prefix, count), tokens(in.k, prefix, count),
                                             tokens(in.v, prefix, count), in.weights, config, mode, chunked);
  ASSERT_TRUE(tensors_close(actual, at::cat(expected, 2))) << "outputs";
  EXPECT_TRUE(states_close(chunked, per_token));
  if (mode == Mode::None) return;  // no attention: the kernel does not run
  HybridLayerState recurrent = prefilled(in, prefix, config, mode);
  const at::Tensor kernel = detail::continue_recurrent(tokens(in.q, prefix, count), tokens(in.k, prefix, count),
                                                       tokens(in.v, prefix, count), in.weights, config, mode, recurrent);
  EXPECT_TRUE(at::equal(kernel, at::cat(expected, 2))) << "recurrent outputs";
  EXPECT_TRUE(states_close(recurrent, per_token, 0.0)) << "recurrent state";
}

TEST(HybridContinuation, EqualsPerTokenPathForEveryModeLayoutLengthAndPrefixResidue) {
  const int64_t w = 4;
  // Prefixes of every residue mod w: within the first window buffer, and past a terraced one (2w).
  const std::vector<int64_t> prefixes = {1, 2, 3, 4, 4 * w + 1, 4 * w + 2, 4 * w + 3, 5 * w};
  for (const Mode mode : kHybridForms) {
    for (const Layout layout : {Layout::Standard, Layout::Terraced}) {
      for (const int sinks : {0, 2}) {
        for (const int64_t prefix : prefixes) {
          for (const int64_t count : {int64_t{1}, w - 1, w, 3 * w + 5}) {
            Shape shape;
            shape.length = prefix + count;
            expect_continuation_matches_per_token(shape, small_config(layout, sinks), mode, prefix, count);
          }
        }
      }
    }
  }
}

TEST(HybridContinuation, SinksBeyondTheWindowAndBatches) {
  // More sinks than w, some still to come when the continuation starts; batch 2, H = Hkv.
  HybridConfig config = small_config(Layout::Standard, 6);
  config.sinks_mode_keys = 7;
  Shape shape;
  shape.batch = 2;
  shape.kv_heads = 4;
  for (const Layout layout : {Layout::Standard, Layout::Terraced}) {
    config.layout = layout;
    for (const Mode mode : {Mode::Hybrid, Mode::Overlap, Mode::Sinks, Mode::Window}) {
      for (const int64_t prefix : {3, 5, 9, 14}) {
        shape.length = prefix + 11;
        expect_continuation_matches_per_token(shape, config, mode, prefix, 11);
      }
    }
  }
}

TEST(HybridContinuation, ChainedContinuationsEqualTheReference) {
  // Blocks of uneven sizes one after another equal the full-sequence reference.
  Shape shape;
  shape.length = 40;
  for (const Layout layout : {Layout::Standard, Layout::Terraced}) {
    const HybridConfig config = small_config(layout, 1);
    for (const Mode mode : {Mode::Hybrid, Mode::Overlap}) {
      SCOPED_TRACE(describe(shape, config, mode));
      const Inputs in = random_inputs(shape, config, 3);
      const at::NoGradGuard no_grad;
      const at::Tensor expected = reference_attention(in.q, in.k, in.v, in.weights, config, mode);
      HybridLayerState state;
      std::vector<at::Tensor> outputs;  // each [B, H, t, d]
      int64_t first = 0;
      for (const int64_t count : {5, 1, 7, 2, 13, 4, 8}) {
        outputs.push_back(continue_chunked(tokens(in.q, first, count), tokens(in.k, first, count),
                                           tokens(in.v, first, count), in.weights, config, mode, state));
        first += count;
      }
      ASSERT_EQ(first, shape.length);
      EXPECT_TRUE(tensors_close(at::cat(outputs, 2), expected));
    }
  }
}

TEST(HybridContinuation, HeadGroupsGiveTheSameResult) {
  // Without autograd, long continuations run a few heads at a time; the history is cut with them.
  HybridConfig config = small_config(Layout::Standard, 2);
  Shape shape;
  shape.length = 16;
  const Inputs in = random_inputs(shape, config, 5);
  const at::NoGradGuard no_grad;
  const HybridLayerState state = prefilled(in, 8, config, Mode::Overlap);
  ChunkedHistory history;
  history.offset = 8;
  history.state_query = 7;
  history.linear_state = at::cat({state.linear_state, state.linear_normaliser.unsqueeze(-1)}, -1);
  history.sink_keys = state.sink_keys;
  history.sink_values = state.sink_values;
  const at::Tensor q = tokens(in.q, 8, 8), k = tokens(in.k, 8, 8), v = tokens(in.v, 8, 8);
  const at::Tensor all_heads =
      detail::chunked_attention_by_heads(q, k, v, in.weights, config, Mode::Overlap, 4, history);
  const at::Tensor by_group =
      detail::chunked_attention_by_heads(q, k, v, in.weights, config, Mode::Overlap, 2, history);
  EXPECT_TRUE(tensors_close(by_group, all_heads));
}

TEST(HybridContinuation, ContinueStateTakesTheKernelWhereItRunsAndTheChunkedFormElsewhere) {
  const HybridConfig config = small_config(Layout::Standard, 0);
  Shape shape;
  shape.length = 9;
  const Inputs in = random_inputs(shape, config, 6);
  const at::Tensor q = tokens(in.q, 4, 5), k = tokens(in.k, 4, 5), v = tokens(in.v, 4, 5);
  {
    const at::NoGradGuard no_grad;
    const HybridLayerState state = prefilled(in, 4, config, Mode::Hybrid);
    EXPECT_TRUE(recurrent_continuation_preferred(q, k, v, in.weights, Mode::Hybrid, state));
    EXPECT_TRUE(recurrent_continuation_preferred(q.to(at::kFloat), k.to(at::kFloat), v.to(at::kFloat), in.weights, Mode::Hybrid,
                                                 HybridLayerState{}));
    EXPECT_FALSE(recurrent_continuation_preferred(q.to(at::kFloat), k.to(at::kFloat), v.to(at::kFloat), in.weights, Mode::Hybrid,
                                                  state))  // a float64 state
        << "state of another dtype";
    EXPECT_FALSE(recurrent_continuation_preferred(q.to(at::kBFloat16), k.to(at::kBFloat16), v.to(at::kBFloat16),
                                                  in.weights, Mode::Hybrid, HybridLayerState{}));
    EXPECT_FALSE(recurrent_continuation_preferred(q, k, v, in.weights, Mode::None, HybridLayerState{}));
  }
  // With a graph to record the chunked form runs, and gradients reach the inputs.
  HybridLayerState state;
  EXPECT_FALSE(recurrent_continuation_preferred(q, k, v, in.weights, Mode::Hybrid, state));
  const at::Tensor output = continue_state(q, k, v, in.weights, config, Mode::Hybrid, state);
  output.sum().backward();
  ASSERT_TRUE(in.q.grad().defined());
  EXPECT_GT(in.q.grad().abs().sum().item<double>(), 0.0);
  EXPECT_EQ(state.tokens_seen, 5);
  // Trainable feature maps alone also need the graph; frozen ones and plain inputs do not.
  const at::Tensor fixed_q = q.detach(), fixed_k = k.detach(), fixed_v = v.detach();
  EXPECT_FALSE(recurrent_continuation_preferred(fixed_q, fixed_k, fixed_v, in.weights, Mode::Hybrid, HybridLayerState{}));
  HybridLayerState trained;
  continue_state(fixed_q, fixed_k, fixed_v, in.weights, config, Mode::Hybrid, trained).sum().backward();
  ASSERT_TRUE(in.weights.feature_q.grad().defined());
  EXPECT_GT(in.weights.feature_q.grad().abs().sum().item<double>(), 0.0);
  HybridLayerWeights frozen = in.weights;
  for (at::Tensor* w : {&frozen.feature_q, &frozen.feature_k, &frozen.bias_q, &frozen.bias_k, &frozen.mixing_logit}) {
    if (w->defined()) *w = w->detach();
  }
  EXPECT_TRUE(recurrent_continuation_preferred(fixed_q, fixed_k, fixed_v, frozen, Mode::Hybrid, HybridLayerState{}));
}

TEST(HybridContinuation, RefusesAStateOfAnotherMode) {
  const HybridConfig config = small_config(Layout::Standard, 0);
  Shape shape;
  shape.length = 6;
  const Inputs in = random_inputs(shape, config, 4);
  const at::NoGradGuard no_grad;
  HybridLayerState state = prefilled(in, 3, config, Mode::Hybrid);
  EXPECT_THROW(continue_chunked(tokens(in.q, 3, 3), tokens(in.k, 3, 3), tokens(in.v, 3, 3), in.weights, config,
                                Mode::Linear, state),
               c10::Error);
}

}  // namespace
}  // namespace lincat::attention::testing
