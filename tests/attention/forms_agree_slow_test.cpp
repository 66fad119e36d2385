// Exhaustive agreement of the three forms: every mode x feature map x layout x sink count x shape.
#include <gtest/gtest.h>

#include "attention/form_checks.h"

namespace lincat::attention::testing {
namespace {

const std::vector<Mode> kHybridForms = {Mode::Hybrid, Mode::Window, Mode::Linear,
                                        Mode::Sinks,  Mode::None,   Mode::Overlap};

std::vector<HybridConfig> all_configs() {
  std::vector<HybridConfig> configs;
  for (const FeatureMapKind map : all_feature_maps()) {
    for (const Layout layout : {Layout::Standard, Layout::Terraced}) {
      for (const int sinks : {0, 2}) configs.push_back(small_config(layout, sinks, map));
    }
  }
  return configs;
}

std::vector<Shape> all_shapes() {
  std::vector<Shape> shapes;
  for (const int64_t length : {1, 3, 4, 8, 11, 37}) {
    for (const int64_t kv_heads : {1, 2, 4}) {
      Shape shape;
      shape.length = length;
      shape.kv_heads = kv_heads;
      shapes.push_back(shape);
    }
  }
  return shapes;
}

TEST(HybridSweep, ChunkedMatchesReferenceEverywhere) {
  for (const Mode mode : kHybridForms) {
    for (const HybridConfig& config : all_configs()) {
      for (const Shape& shape : all_shapes()) expect_chunked_matches_reference(shape, config, mode);
    }
  }
}

TEST(HybridSweep, PrefillThenDecodeMatchesReferenceEverywhere) {
  Shape shape;
  shape.length = 21;
  for (const Mode mode : kHybridForms) {
    for (const HybridConfig& config : all_configs()) {
      for (const int64_t prefill_length : {0, 1, 4, 7, 12, 21}) {
        expect_decode_matches_reference(shape, config, mode, prefill_length);
      }
    }
  }
}

TEST(HybridSweep, ChunkedMatchesReferenceForOtherWindowSizes) {
  Shape shape;
  shape.length = 29;
  for (const int window : {1, 2, 5, 7}) {
    for (const HybridConfig& base : all_configs()) {
      HybridConfig config = base;
      config.window = window;
      for (const Mode mode : kHybridForms) {
        expect_chunked_matches_reference(shape, config, mode);
        expect_decode_matches_reference(shape, config, mode, 10);
      }
    }
  }
}

}  // namespace
}  // namespace lincat::attention::testing
