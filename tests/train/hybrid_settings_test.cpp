// Every hybrid attention setting is declared once (attention/hybrid_settings.h) and reaches every
// place that reads or writes one: a recipe's attention.* keys, the resolved recipe YAML and
// config.json's "lincat" section all carry each setting, and each round-trips.
#include "lincat/attention/hybrid_settings.h"

#include <gtest/gtest.h>

#include "lincat/io/hf_config.h"
#include "lincat/train/recipe.h"
#include "support/user_error.h"

namespace lincat::train {
namespace {

// The value of one setting as text, so that every kind of setting compares alike.
std::string value_of(const attention::HybridSetting& setting, const attention::HybridConfig& config) {
  return setting.number ? std::to_string(config.*setting.number) : setting.text(config);
}

// A valid value other than the default for each setting.
Recipe recipe_with_every_setting_changed() {
  Recipe recipe = load_recipe("lolcats");
  const attention::HybridConfig defaults;
  for (const attention::HybridSetting& setting : attention::hybrid_settings()) {
    std::string value = setting.number ? std::to_string(defaults.*setting.number + 3) : "";
    if (setting.name == "layout") value = "terraced";
    if (setting.name == "feature_map") value = "t2r";
    EXPECT_FALSE(value.empty()) << "no test value for the new setting " << setting.name;
    apply_override(recipe, "attention." + setting.name + "=" + value);
    EXPECT_NE(value_of(setting, recipe.attention), value_of(setting, defaults)) << setting.name;
  }
  return recipe;
}

TEST(HybridSettings, EverySettingIsARecipeKeyAndAConfigJsonField) {
  const Recipe recipe = recipe_with_every_setting_changed();
  EXPECT_NO_THROW(validate(recipe));
  const std::string yaml = to_yaml(recipe);
  ModelConfig config;
  config.hybrid = recipe.attention;
  const nlohmann::json section = io::lincat_section(config);
  ModelConfig back;
  io::parse_lincat_section(section, "config.json", back);
  for (const attention::HybridSetting& setting : attention::hybrid_settings()) {
    EXPECT_NE(yaml.find(setting.name + ": " + value_of(setting, recipe.attention)), std::string::npos) << setting.name;
    EXPECT_TRUE(section.contains(setting.name)) << setting.name;
    EXPECT_EQ(value_of(setting, back.hybrid.value()), value_of(setting, recipe.attention)) << setting.name;
  }
}

TEST(HybridSettings, OutOfRangeValuesNameTheSetting) {
  for (const attention::HybridSetting& setting : attention::hybrid_settings()) {
    if (!setting.number) continue;
    attention::HybridConfig config;
    config.*setting.number = setting.minimum - 1;
    EXPECT_TRUE(test::contains(test::user_error_message([&] { attention::validate(config); }), setting.name))
        << setting.name;
  }
}

}  // namespace
}  // namespace lincat::train
