#include "lincat/attention/hybrid_layer_state.h"

#include <gtest/gtest.h>

#include "attention/attention_test_support.h"
#include "lincat/attention/recurrent.h"

namespace lincat::attention::testing {
namespace {

HybridConfig config_of(Layout layout) {
  HybridConfig config;
  config.window = 16;
  config.layout = layout;
  config.sinks = 2;
  config.feature_dim = 6;
  return config;
}

// Prefill `context` tokens then decode 3 more; returns the state's bytes.
int64_t bytes_after(int64_t context, const HybridConfig& config, Mode mode) {
  Shape shape;
  shape.length = context + 3;
  const Inputs in = random_inputs(shape, config, 4);
  const at::NoGradGuard no_grad;
  HybridLayerState state;
  prefill(in.q.narrow(2, 0, context), in.k.narrow(2, 0, context), in.v.narrow(2, 0, context),
          in.weights, config, mode, state);
  for (int64_t t = context; t < shape.length; ++t) {
    decode_step(in.q.narrow(2, t, 1), in.k.narrow(2, t, 1), in.v.narrow(2, t, 1), in.weights, config,
                mode, state);
  }
  return state.bytes();
}

TEST(HybridDecodeState, BytesDoNotDependOnContextLength) {
  // B 1, H 4, Hkv 2, d 8, F 12, float64: ring 2 * (2 * cap * 8), sinks 2 * (2 * 2 * 8),
  // S 4 * 12 * 8, z 4 * 12, times 8 bytes.
  for (const Layout layout : {Layout::Standard, Layout::Terraced}) {
    const HybridConfig config = config_of(layout);
    const int64_t capacity = layout == Layout::Standard ? 16 : 32;
    const int64_t expected = 8 * (2 * 2 * capacity * 8 + 2 * 2 * 2 * 8 + 4 * 12 * 8 + 4 * 12);
    EXPECT_EQ(bytes_after(100, config, Mode::Hybrid), expected) << layout_name(layout);
    EXPECT_EQ(bytes_after(1000, config, Mode::Hybrid), expected) << layout_name(layout);
  }
  const HybridConfig config = config_of(Layout::Standard);
  EXPECT_EQ(bytes_after(100, config, Mode::Linear), bytes_after(1000, config, Mode::Linear));
  EXPECT_EQ(bytes_after(100, config, Mode::Linear), 8 * (4 * 12 * 8 + 4 * 12));
}

TEST(HybridDecodeState, RefusesAnotherModeAndPrefillOnAUsedState) {
  const HybridConfig config = config_of(Layout::Standard);
  Shape shape;
  shape.length = 5;
  const Inputs in = random_inputs(shape, config, 4);
  const at::NoGradGuard no_grad;
  HybridLayerState state;
  prefill(in.q.narrow(2, 0, 4), in.k.narrow(2, 0, 4), in.v.narrow(2, 0, 4), in.weights, config,
          Mode::Hybrid, state);
  EXPECT_EQ(state.tokens_seen, 4);
  EXPECT_THROW(decode_step(in.q.narrow(2, 4, 1), in.k.narrow(2, 4, 1), in.v.narrow(2, 4, 1), in.weights,
                           config, Mode::Window, state),
               c10::Error);
  EXPECT_THROW(prefill(in.q, in.k, in.v, in.weights, config, Mode::Hybrid, state), c10::Error);
}

}  // namespace
}  // namespace lincat::attention::testing
