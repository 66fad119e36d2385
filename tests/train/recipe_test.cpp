// Recipes: the built-ins load and validate, overrides apply, the resolved YAML reads back the
// same, and bad files and flags are reported with the file, line or flag.
#include <gtest/gtest.h>

#include <limits>

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
  EXPECT_EQ(linear.stage1.mode, attention::Mode::Linear);
  EXPECT_EQ(linear.stage2.mode, attention::Mode::Linear);
  EXPECT_EQ(lolcats.stage1.mode, attention::Mode::Hybrid);
  EXPECT_EQ(lolcats.stage2.mode, attention::Mode::Hybrid);
  // HedgeCATs as arXiv 2510.05901 defines it: linear-only attention-weight transfer with a square
  // Hedgehog map, then a hybrid fine-tune.
  EXPECT_EQ(hedgecats.stage1.mode, attention::Mode::Linear);
  EXPECT_EQ(hedgecats.stage1.output_mse_weight, 0);
  EXPECT_EQ(hedgecats.stage2.mode, attention::Mode::Hybrid);
  EXPECT_TRUE(hedgecats.square_feature_map);
  EXPECT_FALSE(lolcats.square_feature_map);
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

// Recipes written before stage1.mode and stage2.mode: attention.train_mode sets both, a stage's
// own mode given after it wins, and the resolved recipe spells only the per-stage keys.
TEST(TrainRecipe, OlderTrainModeSetsBothStagesAndIsNotWritten) {
  test::TempDir dir;
  test::write_bytes(dir.file("old.yaml"), "attention: {train_mode: linear, window: 8}\n");
  const Recipe old = load_recipe(dir.file("old.yaml"));
  EXPECT_EQ(old.stage1.mode, attention::Mode::Linear);
  EXPECT_EQ(old.stage2.mode, attention::Mode::Linear);
  const std::string yaml = to_yaml(old);
  EXPECT_FALSE(contains(yaml, "train_mode")) << yaml;
  test::write_bytes(dir.file("resolved.yaml"), yaml);
  EXPECT_EQ(to_yaml(load_recipe(dir.file("resolved.yaml"))), yaml);
  test::write_bytes(dir.file("mixed.yaml"), "attention: {train_mode: linear}\nstage2: {mode: hybrid}\n");
  const Recipe mixed = load_recipe(dir.file("mixed.yaml"));
  EXPECT_EQ(mixed.stage1.mode, attention::Mode::Linear);
  EXPECT_EQ(mixed.stage2.mode, attention::Mode::Hybrid);
  Recipe r = load_recipe("lolcats");
  apply_override(r, "attention.train_mode=linear");
  EXPECT_EQ(r.stage1.mode, attention::Mode::Linear);
  EXPECT_TRUE(contains(user_error_message([&] { apply_override(r, "stage1.mode=fast"); }), "stage1.mode"));
  apply_override(r, "stage2.mode=window");
  EXPECT_TRUE(contains(user_error_message([&] { validate(r); }), "stage2.mode must be hybrid or linear"));
}

TEST(TrainRecipe, StepsComeFromTheTokenBudget) {
  Recipe r = load_recipe("lolcats");
  r.stage1.token_budget = 8192 * 3 + 1;
  EXPECT_EQ(stage_steps(r.stage1, r.data), 4);
  r.stage1.token_budget = 0;
  r.stage1.steps = 7;
  EXPECT_EQ(stage_steps(r.stage1, r.data), 7);
}

TEST(TrainRecipe, Stage2MicroBatchTokensSetOnlyStage2sForwardPasses) {
  Recipe r = load_recipe("lolcats");
  r.data.sequence_length = 1024;
  r.data.tokens_per_step = 8192;
  r.data.micro_batch = 4;
  EXPECT_EQ(micro_batch_sequences(r, 1), 4);
  EXPECT_EQ(micro_batch_sequences(r, 2), 4);  // 0: as stage 1
  apply_override(r, "stage2.micro_batch_tokens=2048");
  EXPECT_EQ(micro_batch_sequences(r, 1), 4);
  EXPECT_EQ(micro_batch_sequences(r, 2), 2);
  r.stage2.micro_batch_tokens = 65536;  // at most a step's sequences
  EXPECT_EQ(micro_batch_sequences(r, 2), 8);
  EXPECT_EQ(load_recipe("lolcats").stage2.micro_batch_tokens, 0);
  r.stage2.micro_batch_tokens = 1500;
  EXPECT_TRUE(contains(user_error_message([&] { validate(r); }), "stage2.micro_batch_tokens must be a multiple"));
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
  EXPECT_TRUE(contains(user_error_message([&] { apply_override(r, "stage1.steps"); }), "set 'stage1.steps': expected key=value"));
  EXPECT_TRUE(contains(user_error_message([&] { apply_override(r, "stage9.steps=1"); }), "stage9.steps"));
  apply_override(r, "stage2.lora.targets=[q_proj, w_proj]");
  EXPECT_TRUE(contains(user_error_message([&] { validate(r); }), "w_proj"));
  Recipe linear = load_recipe("linear");
  apply_override(linear, "ssd.enabled=true");
  EXPECT_TRUE(contains(user_error_message([&] { validate(linear); }), "ssd"));
}

// Found by fuzz/recipe_fuzz.cpp: a name ending in a carriage return (or holding bytes that are
// not UTF-8) was accepted, but to_yaml wrote it so that it read back without the carriage return
// (invalid bytes would be replaced), so the resolved recipe described a different run.
TEST(TrainRecipe, TextSettingsThatCannotBeWrittenBackAreRefused) {
  test::TempDir dir;
  test::write_bytes(dir.file("cr.yaml"), "name: small\r");
  EXPECT_TRUE(contains(user_error_message([&] { load_recipe(dir.file("cr.yaml")); }),
                       "cr.yaml:1: name: control character 13"));
  test::write_bytes(dir.file("bytes.yaml"), "data:\n  cache_dir: /tmp/a\xff\n");
  EXPECT_TRUE(contains(user_error_message([&] { load_recipe(dir.file("bytes.yaml")); }),
                       "bytes.yaml:2: data.cache_dir: invalid UTF-8 at byte 6"));
  Recipe r = load_recipe("lolcats");
  EXPECT_TRUE(contains(user_error_message([&] { apply_override(r, "name=a\tb"); }), "name: control character 9"));
  apply_override(r, "name=caf\xc3\xa9 \xe2\x82\xac");  // printable UTF-8 is kept and round-trips
  test::write_bytes(dir.file("r.yaml"), to_yaml(r));
  EXPECT_EQ(load_recipe(dir.file("r.yaml")).name, "caf\xc3\xa9 \xe2\x82\xac");
}

// From review while writing fuzz/recipe_fuzz.cpp, then reproduced with it: a mapping key that is
// a list or mapping threw YAML::BadConversion past the UserError contract.
TEST(TrainRecipe, SettingNameThatIsNotPlainTextIsRefused) {
  test::TempDir dir;
  test::write_bytes(dir.file("key.yaml"), "seed: 1\n? [a, b]\n: 1\n");
  EXPECT_TRUE(contains(user_error_message([&] { load_recipe(dir.file("key.yaml")); }),
                       "key.yaml:2: a setting name must be plain text, found a list"));
  test::write_bytes(dir.file("nested.yaml"), "stage1: {{a: 1}: 2}\n");
  EXPECT_TRUE(contains(user_error_message([&] { load_recipe(dir.file("nested.yaml")); }),
                       "found a mapping under 'stage1'"));
}

// From review, reproduced with fuzz/recipe_fuzz.cpp: a token budget near 2^63 overflowed int64_t
// (undefined behaviour) when rounded up to whole steps.
TEST(TrainRecipe, StepsFromAHugeTokenBudgetDoNotOverflow) {
  Recipe r = load_recipe("lolcats");
  r.stage1.token_budget = std::numeric_limits<int64_t>::max();
  ASSERT_NO_THROW(validate(r));
  EXPECT_EQ(stage_steps(r.stage1, r.data), std::numeric_limits<int64_t>::max() / 8192 + 1);
}

}  // namespace
}  // namespace lincat::train
