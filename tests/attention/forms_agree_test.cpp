// Covering checks that the chunked and recurrent forms agree with the reference: every mode,
// layout, sink count, feature map and shape class appears at least once. The full product is in
// forms_agree_slow_test.cpp.
#include <gtest/gtest.h>

#include "attention/form_checks.h"

namespace lincat::attention::testing {
namespace {

const std::vector<Mode> kHybridForms = {Mode::Hybrid, Mode::Window, Mode::Linear,
                                        Mode::Sinks,  Mode::None,   Mode::Overlap};

TEST(HybridChunked, MatchesReferenceForEveryModeLayoutAndSinks) {
  const Shape shape;  // GQA 4/2, T = 11: not a multiple of w = 4, more than two chunks
  for (const Mode mode : kHybridForms) {
    for (const Layout layout : {Layout::Standard, Layout::Terraced}) {
      for (const int sinks : {0, 2}) {
        expect_chunked_matches_reference(shape, small_config(layout, sinks), mode);
      }
    }
  }
}

TEST(HybridChunked, MatchesReferenceForEveryFeatureMap) {
  Shape shape;
  shape.length = 14;
  for (const FeatureMapKind map : all_feature_maps()) {
    for (const Mode mode : {Mode::Hybrid, Mode::Linear, Mode::Overlap}) {
      expect_chunked_matches_reference(shape, small_config(Layout::Standard, 2, map), mode);
    }
    expect_chunked_matches_reference(shape, small_config(Layout::Terraced, 1, map), Mode::Hybrid);
  }
}

TEST(HybridChunked, MatchesReferenceForEveryShapeClass) {
  // n < w, n = w, n a multiple of w, n >> w; GQA and H = Hkv; batch of 2.
  for (const int64_t length : {3, 4, 8, 37}) {
    for (const int64_t kv_heads : {2, 4}) {
      Shape shape;
      shape.batch = 2;
      shape.length = length;
      shape.kv_heads = kv_heads;
      for (const Layout layout : {Layout::Standard, Layout::Terraced}) {
        expect_chunked_matches_reference(shape, small_config(layout, 2), Mode::Hybrid);
      }
    }
  }
}

TEST(HybridRecurrent, PrefillThenDecodeMatchesFullForwardForEveryModeAndLayout) {
  Shape shape;
  shape.length = 15;  // prefill 6, decode 9: several evictions and terraced block folds
  for (const Mode mode : kHybridForms) {
    for (const Layout layout : {Layout::Standard, Layout::Terraced}) {
      for (const int sinks : {0, 2}) {
        expect_decode_matches_reference(shape, small_config(layout, sinks), mode, 6);
      }
    }
  }
}

TEST(HybridRecurrent, DecodeFromEmptyStateAndEveryFeatureMap) {
  Shape shape;
  shape.length = 13;
  for (const FeatureMapKind map : all_feature_maps()) {
    for (const Mode mode : {Mode::Hybrid, Mode::Overlap}) {
      expect_decode_matches_reference(shape, small_config(Layout::Standard, 1, map), mode, 0);
      expect_decode_matches_reference(shape, small_config(Layout::Terraced, 1, map), mode, 9);
    }
  }
}

TEST(HybridRecurrent, PrefillLengthsAroundTheWindow) {
  Shape shape;
  shape.length = 12;
  for (const int64_t prefill_length : {1, 3, 4, 5, 8, 12}) {
    for (const Layout layout : {Layout::Standard, Layout::Terraced}) {
      expect_decode_matches_reference(shape, small_config(layout, 2), Mode::Hybrid, prefill_length);
    }
  }
}

TEST(HybridChunked, HeadGroupsGiveTheSameResult) {
  // Without autograd, long inputs are processed a few heads at a time.
  for (const int64_t kv_heads : {2, 4}) {
    Shape shape;
    shape.kv_heads = kv_heads;
    shape.length = 19;
    const int64_t group = shape.heads / kv_heads;
    for (const Mode mode : {Mode::Hybrid, Mode::Sinks, Mode::Linear}) {
      const HybridConfig config = small_config(Layout::Terraced, 2, FeatureMapKind::T2R);
      SCOPED_TRACE(describe(shape, config, mode));
      const Inputs in = random_inputs(shape, config, 6);
      const at::NoGradGuard no_grad;
      const at::Tensor expected = reference_attention(in.q, in.k, in.v, in.weights, config, mode);
      // Group 1: passes of 1 head and of 3 + 1 heads. Group 2: passes of 2; 3 splits a group.
      for (const int64_t heads_per_pass : {group, group == 1 ? int64_t{3} : group}) {
        EXPECT_TRUE(tensors_close(detail::chunked_attention_by_heads(in.q, in.k, in.v, in.weights, config,
                                                                     mode, heads_per_pass),
                                  expected));
      }
      if (group == 2) {
        EXPECT_THROW(detail::chunked_attention_by_heads(in.q, in.k, in.v, in.weights, config, mode, 3),
                     c10::Error);
      }
    }
  }
}

}  // namespace
}  // namespace lincat::attention::testing
