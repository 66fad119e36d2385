// Real sizes from the command line: named shapes and sharded 16-bit random models, `plan`, the
// plan check in `convert`, and a bfloat16 model that stays bfloat16 through convert and merge.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "lincat/io/hf_config.h"
#include "lincat/io/safetensors.h"
#include "lincat/io/tensor_io.h"
#include "lincat/model/random_model.h"
#include "lincat/util/error.h"
#include "support/run_program.h"
#include "support/safetensors_bytes.h"
#include "support/temp_dir.h"
#include "support/tiny_teacher.h"
#include "test_paths.h"

namespace {

namespace fs = std::filesystem;
using lincat::test::run_lincat;

TEST(NamedShapes, HaveThePublishedParameterCounts) {
  EXPECT_EQ(lincat::named_model_config("llama-3.2-1b").parameter_count(), 1235814400);
  EXPECT_EQ(lincat::named_model_config("llama-3-8b").parameter_count(), 8030261248);
  EXPECT_EQ(lincat::named_model_config("mistral-7b").parameter_count(), 7241732096);
  EXPECT_THROW(lincat::named_model_config("llama-9"), lincat::UserError);
}

TEST(RandomModel, WritesShardedBfloat16WithAnIndexThatLoads) {
  lincat::test::TempDir dir;
  const std::string out = dir.file("m");
  const auto made = run_lincat("random-model --params 300000 --dtype bfloat16 --shard-size 200KB --out " + out +
                               " --tokenizer " LINCAT_TEST_DATA "/tokenizer/tiny.model");
  ASSERT_EQ(made.exit_code, 0) << made.err;
  EXPECT_TRUE(fs::exists(out + "/model.safetensors.index.json"));
  EXPECT_TRUE(fs::exists(out + "/tokenizer.model"));
  EXPECT_FALSE(fs::exists(out + "/model.safetensors"));
  const auto checkpoint = lincat::io::CheckpointFiles::open_dir(out);
  EXPECT_GT(checkpoint.files().size(), 2u);
  for (const auto& file : checkpoint.files()) {
    uint64_t bytes = 0;
    for (const auto& tensor : file->tensors()) bytes += tensor.end - tensor.begin;
    // Within the limit, unless one tensor alone is larger (it then gets a shard of its own).
    EXPECT_TRUE(bytes <= 200'000u || file->tensors().size() == 1) << file->path();
    for (const auto& tensor : file->tensors()) EXPECT_EQ(tensor.dtype, lincat::io::DType::BF16) << tensor.name;
  }
  EXPECT_EQ(lincat::io::load_model_config(out + "/config.json").torch_dtype, "bfloat16");
  const auto info = run_lincat("info " + out);
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_NE(info.out.find("BF16"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("compute:        float32 on cpu"), std::string::npos) << info.out;  // --dtype auto on CPU
  // The same seed gives the same weights whatever the sharding.
  ASSERT_EQ(run_lincat("random-model --params 300000 --dtype bfloat16 --out " + dir.file("one")).exit_code, 0);
  const auto whole = lincat::io::CheckpointFiles::open_dir(dir.file("one"));
  for (const std::string& name : checkpoint.tensor_names()) {
    EXPECT_TRUE(lincat::io::load_tensor(checkpoint, name).equal(lincat::io::load_tensor(whole, name))) << name;
  }
}

TEST(RandomModel, RefusesBadFlags) {
  lincat::test::TempDir dir;
  const std::pair<std::string, std::string> cases[] = {
      {"--shape llama-9", "--shape: unknown shape 'llama-9'"},
      {"--shape llama-3-8b --params 1000", "give exactly one of --params, --config and --shape"},
      {"--params 1000 --shard-size 5XB", "--shard-size '5XB': unknown unit"},
      {"--params 1000 --dtype auto", "--dtype auto"},
  };
  for (const auto& [flags, message] : cases) {
    const auto result = run_lincat("random-model " + flags + " --out " + dir.file("x"));
    EXPECT_EQ(result.exit_code, 2) << flags;
    EXPECT_NE(result.err.find(message), std::string::npos) << result.err;
  }
}

// A config.json of the 8B shape is all plan needs: no weights are read.
std::string eight_b_config_only(const lincat::test::TempDir& dir) {
  const std::string model = dir.file("llama-3-8b");
  fs::create_directories(model);
  lincat::io::write_json_file(model + "/config.json",
                              lincat::io::model_config_to_json(lincat::named_model_config("llama-3-8b")));
  return model;
}

TEST(Plan, PrintsEveryPhaseAndJson) {
  lincat::test::TempDir dir;
  const std::string model = eight_b_config_only(dir);
  const auto table = run_lincat("plan " + model + " --recipe lolcats --device cuda --memory 24GiB --set data.sequence_length=2048 --set data.tokens_per_step=2048");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  for (const char* phase : {"load", "stage 1", "stage 2", "eval", "merge", "peak"}) {
    EXPECT_NE(table.out.find(phase), std::string::npos) << phase << "\n" << table.out;
  }
  const auto json = run_lincat("plan " + model + " --recipe lolcats --device cuda:0 --memory 80GiB --json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto plan = nlohmann::json::parse(json.out);
  EXPECT_TRUE(plan["fits"].get<bool>());
  EXPECT_EQ(plan["phases"].size(), 5u);
  EXPECT_EQ(plan["phases"][0]["frozen_weights"].get<uint64_t>(), 8030261248ull * 2);
  const auto bad = run_lincat("plan " + model + " --recipe lolcats --memory lots");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--memory 'lots'"), std::string::npos) << bad.err;
  const auto bad_device = run_lincat("plan " + model + " --recipe lolcats --device tpu");
  EXPECT_EQ(bad_device.exit_code, 2);
  EXPECT_NE(bad_device.err.find("--device 'tpu'"), std::string::npos) << bad_device.err;
}

TEST(Plan, ConvertRefusesWhatCannotFitUnlessForced) {
  lincat::test::TempDir dir;
  const std::string model = eight_b_config_only(dir);  // float32 on this CPU: 32 GB of weights
  lincat::test::write_bytes(dir.file("t.txt"), lincat::test::tiny_text(100));
  const std::string convert = "convert " + model + " --recipe lolcats --data " + dir.file("t.txt") + " --out " + dir.file("out");
  const auto refused = run_lincat(convert);
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("does not fit in memory (pass --force"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("stage 2"), std::string::npos) << refused.err;
  const auto forced = run_lincat(convert + " --force");  // goes on, and meets the missing weights
  EXPECT_EQ(forced.exit_code, 2);
  EXPECT_EQ(forced.err.find("does not fit in memory"), std::string::npos) << forced.err;
}

// An allocation that cannot succeed (the teacher's [4, 2^17, 2^17] float32 scores: 256 GiB) ends as
// bad input naming the phase, not as an internal failure.
TEST(OutOfMemory, StopsConvertWithThePhaseAndAdvice) {
  lincat::test::TempDir dir;
  const std::string teacher = lincat::test::write_tiny_teacher(dir.file("teacher"));
  lincat::test::write_bytes(dir.file("t.txt"), lincat::test::tiny_text(150000));
  const auto result = run_lincat("convert " + teacher + " --recipe lolcats --data " + dir.file("t.txt") + " --out " +
                                 dir.file("out") + " --set data.sequence_length=131072 --set data.tokens_per_step=131072" +
                                 " --set data.eval_fraction=0 --set data.cache_dir=" + dir.file("cache") +
                                 " --stage1-steps 1 --stage2-steps 0 --force");
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("error: stage 1 step 1: out of memory ("), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("lincat plan"), std::string::npos) << result.err;
}

// convert and merge write the pretrained weights back in the checkpoint's dtype.
TEST(Dtypes, ABfloat16ModelStaysBfloat16OnDisk) {
  lincat::test::TempDir dir;
  const std::string teacher = lincat::test::write_tiny_teacher(dir.file("teacher"));
  const std::string weights = teacher + "/model.safetensors";
  std::vector<std::pair<std::string, at::Tensor>> bf16;
  for (auto& [name, tensor] : lincat::io::load_safetensors(weights)) bf16.emplace_back(name, tensor.to(at::kBFloat16));
  lincat::io::save_safetensors(weights, bf16);
  lincat::test::write_bytes(dir.file("t.txt"), lincat::test::tiny_text(600));
  const std::string out = dir.file("converted");
  const auto converted = run_lincat("convert " + teacher + " --recipe lolcats --data " + dir.file("t.txt") + " --out " + out +
                                    lincat::test::tiny_recipe_flags(dir.file("cache")) + " --stage1-steps 1 --stage2-steps 1");
  ASSERT_EQ(converted.exit_code, 0) << converted.err;
  for (const auto& [name, tensor] : lincat::io::load_safetensors(out + "/model.safetensors")) {
    const bool trained = name.find("feature_map") != std::string::npos || name.find("mixing_logit") != std::string::npos ||
                         name.find(".lora_") != std::string::npos;
    EXPECT_EQ(tensor.scalar_type(), trained ? at::kFloat : at::kBFloat16) << name;
  }
  EXPECT_EQ(lincat::io::load_model_config(out + "/config.json").torch_dtype, "bfloat16");
  const auto merged = run_lincat("merge " + out + " --out " + dir.file("merged"));
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  for (const auto& [name, tensor] : lincat::io::load_safetensors(dir.file("merged") + "/model.safetensors")) {
    if (name.find("feature_map") == std::string::npos && name.find("mixing_logit") == std::string::npos) {
      EXPECT_EQ(tensor.scalar_type(), at::kBFloat16) << name;
    }
  }
  const auto info = run_lincat("info " + dir.file("merged"));
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_NE(info.out.find("BF16"), std::string::npos) << info.out;
}

}  // namespace
