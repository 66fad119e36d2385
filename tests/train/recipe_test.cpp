// Recipes: the built-ins load and validate, overrides apply, the resolved YAML reads back the
// same, and bad files and flags are reported with the file, line or flag.
#include <gtest/gtest.h>

#include "lincat/train/recipe.h"
#include "support/safetensors_bytes.h"
#include "support/temp_dir.h"
#include "support/user_error.h"

namespace lincat::train {
namespace {

using test::contains;
using test::user_error_message;

TEST(TrainRecipe, BuiltinsLoadValidateAndDiffer) {
  const Recipe lolcats = load_recipe("lolcats"), hedgecats = load_recipe("hedgecats");
  const Recipe ssd = load_recipe("ssd"), linear = load_recipe("linear");
  for (const Recipe* r : {&lolcats, &hedgecats, &ssd, &linear}) EXPECT_NO_THROW(validate(*r)) << r->name;
  EXPECT_GT(lolcats.stage1.output_mse_weight, 0);
  EXPECT_EQ(lolcats.stage1.attention_weight_weight, 0);
  EXPECT_GT(hedgecats.stage1.attention_weight_weight, 0);
  EXPECT_GT(hedgecats.stage2.early_stopping_patience, 0);
  EXPECT_TRUE(ssd.ssd.enabled);
  EXPECT_FALSE(lolcats.ssd.enabled);
  EXPECT_EQ(linear.train_mode, attention::Mode::Linear);
  EXPECT_EQ(linear.default_mode, attention::Mode::Hybrid);
  EXPECT_EQ(lolcats.stage2.lora.rank, 8);
  EXPECT_EQ(lolcats.stage2.optimiser.clip_norm, 1.0);
}

TEST(TrainRecipe, OverridesApplyAndResolvedYamlRoundTrips) {
  Recipe r = load_recipe("ssd");
  apply_override(r, "stage1.learning_rate=0.005");
  apply_override(r, "ssd.granularity=head");
  apply_override(r, "ssd.drop_schedule=[0.5, 0.25]");
  apply_override(r, "stage2.lora.targets=[q_proj, up_proj]");
  EXPECT_EQ(r.stage1.optimiser.learning_rate, 0.005);
  EXPECT_EQ(r.ssd.granularity, SsdGranularity::Head);
  EXPECT_EQ(r.ssd.drop_schedule, (std::vector<double>{0.5, 0.25}));
  test::TempDir dir;
  test::write_bytes(dir.file("r.yaml"), to_yaml(r));
  const Recipe back = load_recipe(dir.file("r.yaml"));
  EXPECT_EQ(to_yaml(back), to_yaml(r));
  EXPECT_EQ(back.stage2.lora.targets, (std::vector<std::string>{"q_proj", "up_proj"}));
}

TEST(TrainRecipe, StepsComeFromTheTokenBudget) {
  Recipe r = load_recipe("lolcats");
  r.stage1.token_budget = 8192 * 3 + 1;
  EXPECT_EQ(stage_steps(r.stage1, r.data), 4);
  r.stage1.token_budget = 0;
  r.stage1.steps = 7;
  EXPECT_EQ(stage_steps(r.stage1, r.data), 7);
}

TEST(TrainRecipe, BadInputIsReportedWithFileLineOrFlag) {
  test::TempDir dir;
  test::write_bytes(dir.file("bad.yaml"), "stage1:\n  steps: 3\n  learnin_rate: 0.1\n");
  const std::string unknown = user_error_message([&] { load_recipe(dir.file("bad.yaml")); });
  EXPECT_TRUE(contains(unknown, "bad.yaml:3"));
  EXPECT_TRUE(contains(unknown, "stage1.learnin_rate"));
  test::write_bytes(dir.file("type.yaml"), "stage1:\n  steps: many\n");
  EXPECT_TRUE(contains(user_error_message([&] { load_recipe(dir.file("type.yaml")); }), "type.yaml:2"));
  EXPECT_TRUE(contains(user_error_message([] { load_recipe("lolcatz"); }), "lolcats, hedgecats, ssd, linear"));
  Recipe r = load_recipe("lolcats");
  EXPECT_TRUE(contains(user_error_message([&] { apply_override(r, "stage1.steps"); }), "--set"));
  EXPECT_TRUE(contains(user_error_message([&] { apply_override(r, "stage9.steps=1"); }), "stage9.steps"));
  apply_override(r, "stage2.lora.targets=[q_proj, w_proj]");
  EXPECT_TRUE(contains(user_error_message([&] { validate(r); }), "w_proj"));
  Recipe linear = load_recipe("linear");
  apply_override(linear, "ssd.enabled=true");
  EXPECT_TRUE(contains(user_error_message([&] { validate(linear); }), "ssd"));
}

}  // namespace
}  // namespace lincat::train
