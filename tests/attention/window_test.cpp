#include "lincat/attention/window.h"

#include <gtest/gtest.h>

#include <vector>

#include "lincat/attention/key_sets.h"

namespace lincat::attention {
namespace {

std::vector<int64_t> window_of(int64_t query, const HybridConfig& config) {
  std::vector<int64_t> keys;
  for (int64_t key = -2; key <= query + 2; ++key) {
    if (in_window(query, key, config)) keys.push_back(key);
  }
  return keys;
}

HybridConfig config_of(int window, Layout layout, int sinks) {
  HybridConfig config;
  config.window = window;
  config.layout = layout;
  config.sinks = sinks;
  return config;
}

using Keys = std::vector<int64_t>;

TEST(WindowPredicate, StandardHoldsTheLastWKeys) {
  const HybridConfig config = config_of(3, Layout::Standard, 0);
  EXPECT_EQ(window_of(0, config), (Keys{0}));
  EXPECT_EQ(window_of(1, config), (Keys{0, 1}));
  EXPECT_EQ(window_of(5, config), (Keys{3, 4, 5}));
  EXPECT_EQ(window_capacity(config), 3);
}

TEST(WindowPredicate, TerracedHoldsOwnBlockAndThePreviousBlock) {
  const HybridConfig config = config_of(4, Layout::Terraced, 0);
  EXPECT_EQ(window_of(3, config), (Keys{0, 1, 2, 3}));
  EXPECT_EQ(window_of(7, config), (Keys{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(window_of(8, config), (Keys{4, 5, 6, 7, 8}));  // w + 1 keys at a block start
  EXPECT_EQ(window_of(11, config), (Keys{4, 5, 6, 7, 8, 9, 10, 11}));  // 2w at a block end
  EXPECT_EQ(window_capacity(config), 8);
}

TEST(WindowPredicate, SinksAreAlwaysInTheWindow) {
  EXPECT_EQ(window_of(10, config_of(3, Layout::Standard, 2)), (Keys{0, 1, 8, 9, 10}));
  EXPECT_EQ(window_of(1, config_of(3, Layout::Standard, 2)), (Keys{0, 1}));
  EXPECT_EQ(window_of(9, config_of(4, Layout::Terraced, 1)), (Keys{0, 4, 5, 6, 7, 8, 9}));
}

TEST(KeySets, LinearSetIsTheCausalComplementOfTheWindowInHybridMode) {
  const HybridConfig config = config_of(3, Layout::Standard, 1);
  std::vector<int64_t> linear;
  for (int64_t key = 0; key <= 6; ++key) {
    if (in_linear_set(Mode::Hybrid, 6, key, config)) linear.push_back(key);
    EXPECT_NE(in_linear_set(Mode::Hybrid, 6, key, config), in_softmax_set(Mode::Hybrid, 6, key, config));
  }
  EXPECT_EQ(linear, (Keys{1, 2, 3}));
  EXPECT_FALSE(in_linear_set(Mode::Hybrid, 6, 7, config));
}

TEST(KeySets, ModesTable) {
  HybridConfig config = config_of(2, Layout::Standard, 0);
  config.sinks_mode_keys = 2;
  // Query 5: window {4, 5}.
  EXPECT_TRUE(in_linear_set(Mode::Linear, 5, 5, config));    // linear: all j <= i
  EXPECT_FALSE(in_softmax_set(Mode::Linear, 5, 5, config));
  EXPECT_TRUE(in_linear_set(Mode::Overlap, 5, 4, config));   // overlap: both branches
  EXPECT_TRUE(in_softmax_set(Mode::Overlap, 5, 4, config));
  EXPECT_FALSE(in_linear_set(Mode::Window, 5, 0, config));   // window: no linear branch
  EXPECT_TRUE(in_softmax_set(Mode::Sinks, 5, 1, config));    // sinks: the first s keys only
  EXPECT_FALSE(in_softmax_set(Mode::Sinks, 5, 2, config));
  EXPECT_FALSE(in_softmax_set(Mode::Sinks, 0, 1, config));   // still causal
  EXPECT_FALSE(in_softmax_set(Mode::None, 5, 5, config));
  EXPECT_FALSE(in_linear_set(Mode::None, 5, 0, config));
}

}  // namespace
}  // namespace lincat::attention
