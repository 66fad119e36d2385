#include "lincat/attention/modes.h"

#include <gtest/gtest.h>

#include <functional>

#include "lincat/util/error.h"

namespace lincat::attention {
namespace {

std::string parse_error(const std::function<void()>& parse) {
  try {
    parse();
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(AttentionModes, NamesRoundTripAndListEveryMode) {
  const std::vector<std::string> names = {"softmax", "hybrid", "window", "linear",
                                          "sinks",   "none",   "overlap"};
  ASSERT_EQ(all_modes().size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(mode_name(all_modes()[i]), names[i]);
    EXPECT_EQ(parse_mode(names[i]), all_modes()[i]);
  }
}

TEST(AttentionModes, UnknownModeNamesTheValidOnes) {
  const std::string message = parse_error([] { parse_mode("hybird"); });
  EXPECT_NE(message.find("'hybird'"), std::string::npos) << message;
  EXPECT_NE(message.find("softmax, hybrid, window, linear, sinks, none, overlap"), std::string::npos)
      << message;
}

TEST(AttentionModes, LayoutsAndFeatureMapsRoundTrip) {
  for (const Layout layout : {Layout::Standard, Layout::Terraced}) {
    EXPECT_EQ(parse_layout(layout_name(layout)), layout);
  }
  EXPECT_EQ(layout_name(Layout::Terraced), "terraced");
  ASSERT_EQ(all_feature_maps().size(), 5u);
  for (const FeatureMapKind kind : all_feature_maps()) {
    EXPECT_EQ(parse_feature_map(feature_map_name(kind)), kind);
  }
  EXPECT_EQ(feature_map_name(FeatureMapKind::HedgehogExp), "hedgehog_exp");
  EXPECT_NE(parse_error([] { parse_layout("diagonal"); }).find("standard, terraced"),
            std::string::npos);
  EXPECT_NE(parse_error([] { parse_feature_map("gelu"); }).find("hedgehog, hedgehog_exp, t2r"),
            std::string::npos);
}

TEST(AttentionModes, ConfigValidationRejectsOutOfRangeFields) {
  EXPECT_NO_THROW(validate(HybridConfig{}));
  HybridConfig config;
  config.window = 0;
  EXPECT_THROW(validate(config), UserError);
  config = HybridConfig{};
  config.sinks = -1;
  EXPECT_THROW(validate(config), UserError);
  config = HybridConfig{};
  config.feature_dim = 0;
  EXPECT_THROW(validate(config), UserError);
  config = HybridConfig{};
  config.sinks_mode_keys = 0;
  EXPECT_THROW(validate(config), UserError);
}

}  // namespace
}  // namespace lincat::attention
