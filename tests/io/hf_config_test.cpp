#include "lincat/io/hf_config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "lincat/util/error.h"
#include "support/temp_dir.h"
#include "support/user_error.h"
#include "test_paths.h"

namespace {

using nlohmann::json;

json llama_config() {
  return json::parse(R"({
    "architectures": ["LlamaForCausalLM"], "vocab_size": 512, "hidden_size": 64,
    "intermediate_size": 176, "num_hidden_layers": 2, "num_attention_heads": 4,
    "num_key_value_heads": 2, "head_dim": 16, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
    "rope_scaling": null, "tie_word_embeddings": false, "bos_token_id": 1, "eos_token_id": 2})");
}

std::string error_of(const json& config) {
  try {
    lincat::io::parse_model_config(config, "config.json");
  } catch (const lincat::UserError& e) {
    return e.what();
  }
  return "";
}

TEST(HfConfig, ReadsTheLlamaFixture) {
  const auto c = lincat::io::load_model_config(LINCAT_TEST_DATA "/hf-reference/llama-gqa/config.json");
  EXPECT_EQ(c.architecture, "LlamaForCausalLM");
  EXPECT_EQ(c.vocab_size, 512);
  EXPECT_EQ(c.hidden_size, 64);
  EXPECT_EQ(c.intermediate_size, 176);
  EXPECT_EQ(c.num_layers, 2);
  EXPECT_EQ(c.num_heads, 4);
  EXPECT_EQ(c.num_kv_heads, 2);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-5);
  EXPECT_FALSE(c.rope_scaling.has_value());
  EXPECT_FALSE(c.sliding_window.has_value());
  EXPECT_EQ(c.bos_token_id, 1);
  EXPECT_EQ(c.eos_token_ids, std::vector<int64_t>{2});
}

TEST(HfConfig, ReadsTheMistralSlidingWindow) {
  const auto c = lincat::io::load_model_config(LINCAT_TEST_DATA "/hf-reference/mistral-swa/config.json");
  EXPECT_EQ(c.architecture, "MistralForCausalLM");
  EXPECT_EQ(c.sliding_window, 16);
}

TEST(HfConfig, ReadsLlama3RopeScalingAndEosList) {
  json config = llama_config();
  config["rope_scaling"] = json::parse(R"({"rope_type": "llama3", "factor": 8.0,
      "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192})");
  config["eos_token_id"] = json::array({128001, 128008, 128009});
  const auto c = lincat::io::parse_model_config(config, "config.json");
  ASSERT_TRUE(c.rope_scaling.has_value());
  EXPECT_EQ(c.rope_scaling->kind, "llama3");
  EXPECT_DOUBLE_EQ(c.rope_scaling->factor, 8.0);
  EXPECT_EQ(c.rope_scaling->original_max_position_embeddings, 8192);
  EXPECT_EQ(c.eos_token_ids.size(), 3u);
}

TEST(HfConfig, HeadDimDefaultsToHiddenOverHeads) {
  json config = llama_config();
  config.erase("head_dim");
  EXPECT_EQ(lincat::io::parse_model_config(config, "config.json").head_dim, 16);
}

TEST(HfConfig, RefusesUnknownArchitecture) {
  json config = llama_config();
  config["architectures"] = json::array({"GPT2LMHeadModel"});
  EXPECT_NE(error_of(config).find("architecture 'GPT2LMHeadModel' is not supported"), std::string::npos);
}

TEST(HfConfig, RefusesMissingRequiredField) {
  json config = llama_config();
  config.erase("num_hidden_layers");
  EXPECT_EQ(error_of(config), "config.json: field 'num_hidden_layers' is missing");
}

TEST(HfConfig, RefusesMistypedField) {
  json config = llama_config();
  config["hidden_size"] = "64";
  EXPECT_NE(error_of(config).find("field 'hidden_size' must be an integer"), std::string::npos);
}

TEST(HfConfig, RefusesAbsurdSizesBeforeAllocating) {
  json config = llama_config();
  config["vocab_size"] = int64_t{1} << 40;
  EXPECT_NE(error_of(config).find("field 'vocab_size' must be in 1.."), std::string::npos);
}

// Fuzz finding (hf_config_fuzz on a 30000-deep input): the message quoted the value with
// json::dump, which recursed once per nesting level and overflowed the stack.
TEST(HfConfig, DeeplyNestedValueRefusedWithoutRecursing) {
  json config = llama_config();
  config["hidden_size"] = json::parse(std::string(200000, '[') + std::string(200000, ']'));
  EXPECT_EQ(error_of(config), "config.json: field 'hidden_size' must be an integer, found an array of 1 item");
}

TEST(HfConfig, RefusesKvHeadsThatDoNotDivideHeads) {
  json config = llama_config();
  config["num_key_value_heads"] = 3;
  EXPECT_NE(error_of(config).find("num_key_value_heads' must divide num_attention_heads"), std::string::npos);
}

TEST(HfConfig, RefusesUnsupportedRopeScalingByName) {
  json config = llama_config();
  config["rope_scaling"] = json::parse(R"({"type": "yarn", "factor": 4.0})");
  EXPECT_NE(error_of(config).find("rope_scaling type 'yarn' is not supported"), std::string::npos);
}

TEST(HfConfig, RefusesOtherActivationsAndBiases) {
  json config = llama_config();
  config["hidden_act"] = "gelu";
  EXPECT_NE(error_of(config).find("'hidden_act'"), std::string::npos);
  config = llama_config();
  config["attention_bias"] = true;
  EXPECT_NE(error_of(config).find("'attention_bias'"), std::string::npos);
}

TEST(HfConfig, NamesTheFileWhenJsonIsInvalidOrMissing) {
  try {
    lincat::io::load_model_config("/nonexistent/config.json");
    FAIL();
  } catch (const lincat::UserError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/config.json"), std::string::npos);
  }
}

// Fuzz finding (hf_config_fuzz): a number beyond double's range makes the JSON parser throw
// out_of_range rather than parse_error, which escaped as an internal error.
TEST(HfConfig, NumberBeyondDoubleRangeIsInvalidJson) {
  lincat::test::TempDir dir;
  std::ofstream(dir.file("config.json")) << R"({"rms_norm_eps": 1e3081})";
  const std::string message = lincat::test::user_error_message(
      [&] { lincat::io::load_model_config(dir.file("config.json")); });
  EXPECT_TRUE(lincat::test::contains(message, dir.file("config.json") + ": invalid JSON"));
  EXPECT_TRUE(lincat::test::contains(message, "number overflow"));
}

}  // namespace
