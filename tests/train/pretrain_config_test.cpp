// Pretraining configs: the built-in teacher has the size issue 8 asks for, overrides apply and
// the resolved YAML reads back the same, bad files and flags name the file, line or key.
#include <gtest/gtest.h>

#include "lincat/train/pretrain_config.h"
#include "support/safetensors_bytes.h"
#include "support/temp_dir.h"
#include "support/user_error.h"

namespace lincat::train {
namespace {

using test::contains;
using test::user_error_message;

TEST(TrainPretrainConfig, TeacherIsTheSmallLongRangeModel) {
  const PretrainConfig c = load_pretrain_config("teacher");
  EXPECT_NO_THROW(validate(c));
  EXPECT_EQ(c.model.hidden_size, 160);
  EXPECT_EQ(c.model.hidden_size / c.model.num_heads, 40);
  EXPECT_EQ(c.data.sequence_length, 512);
  EXPECT_EQ(c.data.tokens_per_step / c.data.sequence_length, 8);
  EXPECT_DOUBLE_EQ(c.data.synthetic.share, 0.3);
  EXPECT_GE(c.data.synthetic.max_distance, 4 * 32 * 3);  // far beyond 4 x the demo's window of 32
  EXPECT_FALSE(c.model.tie_word_embeddings);
  const ModelConfig m = pretrain_model_config(c, c.tokenizer.vocab_size, 1, 2);
  EXPECT_GT(m.parameter_count(), 2'300'000);
  EXPECT_LT(m.parameter_count(), 2'700'000);
}

TEST(TrainPretrainConfig, OverridesApplyAndResolvedYamlRoundTrips) {
  PretrainConfig c = load_pretrain_config("teacher");
  apply_pretrain_override(c, "optimiser.learning_rate=0.001");
  apply_pretrain_override(c, "data.synthetic.kinds=[passkey]");
  apply_pretrain_override(c, "model.num_layers=2");
  EXPECT_EQ(c.training.optimiser.learning_rate, 0.001);
  EXPECT_EQ(c.data.synthetic.kinds, (std::vector<std::string>{"passkey"}));
  test::TempDir dir;
  test::write_bytes(dir.file("c.yaml"), to_yaml(c));
  const PretrainConfig back = load_pretrain_config(dir.file("c.yaml"));
  EXPECT_EQ(to_yaml(back), to_yaml(c));
  EXPECT_EQ(back.model.num_layers, 2);
}

TEST(TrainPretrainConfig, BadConfigsNameTheFileLineOrKey) {
  test::TempDir dir;
  test::write_bytes(dir.file("unknown.yaml"), "model:\n  hidden_size: 64\n  num_layer: 2\n");
  EXPECT_TRUE(contains(user_error_message([&] { load_pretrain_config(dir.file("unknown.yaml")); }),
                       "unknown.yaml:3: unknown setting 'model.num_layer'"));
  test::write_bytes(dir.file("type.yaml"), "steps: many\n");
  EXPECT_TRUE(contains(user_error_message([&] { load_pretrain_config(dir.file("type.yaml")); }),
                       "type.yaml:1: steps: expected an integer"));
  PretrainConfig c = load_pretrain_config("teacher");
  c.model.num_kv_heads = 3;
  EXPECT_TRUE(contains(user_error_message([&] { validate(c); }), "model.num_heads (4) must be a multiple of model.num_kv_heads (3)"));
  c = load_pretrain_config("teacher");
  c.data.synthetic.kinds = {"needle"};
  EXPECT_TRUE(contains(user_error_message([&] { validate(c); }), "unknown kind 'needle'"));
  EXPECT_TRUE(contains(user_error_message([&] { apply_pretrain_override(c, "model.depth=3"); }), "unknown setting 'model.depth'"));
  c = load_pretrain_config("teacher");
  apply_pretrain_override(c, "probes.distances=[64, 512]");
  EXPECT_NO_THROW(validate(c));  // checked only when the probes run
  c.probe_items = 4;
  EXPECT_TRUE(contains(user_error_message([&] { validate(c); }), "probes.distances must lie in [1, model.max_position_embeddings)"));
  c = load_pretrain_config("teacher");
  c.probe_items = -1;
  EXPECT_TRUE(contains(user_error_message([&] { validate(c); }), "probes.items must be >= 0"));
  EXPECT_TRUE(contains(user_error_message([&] { load_pretrain_config("nope"); }), "built-in config (teacher)"));
}

}  // namespace
}  // namespace lincat::train
