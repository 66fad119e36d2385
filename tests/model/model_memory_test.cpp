// Configs and requests that cannot fit in memory are refused from the numbers alone.
#include "lincat/model/model_memory.h"

#include <gtest/gtest.h>

#include "lincat/io/hf_config.h"
#include "support/user_error.h"
#include "test_paths.h"

namespace {

using lincat::test::contains;
using lincat::test::user_error_message;

const std::string kLlamaConfig = LINCAT_TEST_DATA "/hf-reference/llama-gqa/config.json";

// Every size within the per-field limit of 2^24, the model itself absurd (about 2^74 parameters).
lincat::ModelConfig absurd_config() {
  nlohmann::json config = lincat::io::read_json_file(kLlamaConfig);
  for (const char* field : {"vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "head_dim"}) {
    config[field] = 1 << 24;
  }
  return lincat::io::parse_model_config(config, "absurd/config.json");
}

TEST(ModelMemory, CountsTheFixtureParameters) {
  const lincat::ModelConfig config = lincat::io::load_model_config(kLlamaConfig);
  EXPECT_EQ(config.parameter_count(), 158016);  // the 21 tensors of model.safetensors
  EXPECT_EQ(lincat::parameter_bytes(config, 2), 316032u);
  lincat::check_model_fits(config, 4, "float32", kLlamaConfig);
}

TEST(ModelMemory, ParameterCountSaturatesInsteadOfOverflowing) {
  EXPECT_EQ(absurd_config().parameter_count(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(lincat::parameter_bytes(absurd_config(), 4), std::numeric_limits<uint64_t>::max());
}

TEST(ModelMemory, RefusesAModelLargerThanThisMachine) {
  const std::string message =
      user_error_message([] { lincat::check_model_fits(absurd_config(), 4, "float32", "absurd/config.json"); });
  EXPECT_TRUE(contains(message, "absurd/config.json: the model (at least 9223372036854775807 parameters in float32)"));
  EXPECT_TRUE(contains(message, "needs more than 17179869183 GiB, this machine has "));
}

TEST(ModelMemory, RefusesAForwardThatCannotFit) {
  const lincat::ModelConfig config = lincat::io::load_model_config(kLlamaConfig);
  // 4 heads x 10^6 x 10^6 float32 scores: 14.6 TiB.
  const uint64_t tokens = 1000000;
  EXPECT_EQ(lincat::forward_bytes_lower_bound(config, 1, 1000000, true), 4 * tokens * tokens * 4 + tokens * 512 * 4);
  EXPECT_EQ(lincat::forward_bytes_lower_bound(config, 1, 1000000, false), tokens * 512 * 4);
  const std::string message = user_error_message([&] { lincat::check_forward_fits(config, 1, 1000000, true); });
  EXPECT_TRUE(contains(message, "a forward pass over 1 x 1000000 tokens needs at least 14903.1 GiB"));
  EXPECT_TRUE(contains(message, "(logits and softmax attention scores)"));
  EXPECT_TRUE(contains(message, " GiB is available"));
  lincat::check_forward_fits(config, 1, 4096, true);
}

}  // namespace
