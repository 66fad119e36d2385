// Model directories: single-file and sharded (index) layouts, written and read back, and the
// ways a directory can be broken.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "lincat/io/safetensors.h"
#include "lincat/io/tensor_io.h"
#include "support/safetensors_bytes.h"
#include "support/temp_dir.h"
#include "support/user_error.h"
#include "test_paths.h"

namespace lincat::io {
namespace {

namespace fs = std::filesystem;
using test::contains;
using test::tensor_entry;
using test::user_error_message;

const std::string kLlamaDir = std::string(LINCAT_TEST_DATA) + "/hf-reference/llama-gqa";

// Five float32 tensors of 64..320 bytes, so small shard limits split them.
std::vector<std::pair<std::string, at::Tensor>> sample_tensors() {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (int i = 0; i < 5; ++i) {
    tensors.emplace_back("layer." + std::to_string(i) + ".weight", torch::randn({i + 1, 16}));  // [i+1, 16]
  }
  return tensors;
}

std::set<std::string> file_names(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename().string());
  return names;
}

// A directory with one shard holding tensor "a", and an index written from `index_json`.
void write_one_shard_checkpoint(const test::TempDir& dir, const std::string& index_json) {
  test::write_bytes(dir.file("model-00001-of-00001.safetensors"),
                    test::safetensors_bytes("{" + tensor_entry("a", "F32", {1}, 0, 4) + "}", "abcd"));
  test::write_bytes(dir.file("model.safetensors.index.json"), index_json);
}

TEST(OpenDir, ReadsFixtureDirectory) {
  const CheckpointFiles checkpoint = CheckpointFiles::open_dir(kLlamaDir);
  EXPECT_EQ(checkpoint.tensor_names().size(), 21u);
  EXPECT_TRUE(checkpoint.contains("model.norm.weight"));
  EXPECT_FALSE(checkpoint.contains("model.rotary_emb.inv_freq"));
  EXPECT_EQ(load_tensor(checkpoint, "model.embed_tokens.weight").sizes(), (at::IntArrayRef{512, 64}));
}

TEST(OpenDir, MissingDirectory) {
  test::TempDir dir;
  const std::string missing = dir.file("no-such-model");
  const std::string message = user_error_message([&] { CheckpointFiles::open_dir(missing); });
  EXPECT_TRUE(contains(message, missing + ": model directory does not exist"));
}

TEST(OpenDir, DirectoryWithoutWeights) {
  test::TempDir dir;
  test::write_bytes(dir.file("config.json"), "{}");
  const std::string message = user_error_message([&] { CheckpointFiles::open_dir(dir.path()); });
  EXPECT_TRUE(contains(message, dir.path() + ": no weights found (expected model.safetensors or "
                                             "model.safetensors.index.json)"));
}

TEST(OpenDir, BadIndexJson) {
  test::TempDir dir;
  write_one_shard_checkpoint(dir, R"({"weight_map": {"a": "model-00001-of-00001.safetensors",)");
  const std::string message = user_error_message([&] { CheckpointFiles::open_dir(dir.path()); });
  EXPECT_TRUE(contains(message, dir.file("model.safetensors.index.json") + ": not valid JSON"));
}

TEST(OpenDir, IndexNamesMissingShard) {
  test::TempDir dir;
  write_one_shard_checkpoint(dir, R"({"weight_map": {"a": "model-00001-of-00001.safetensors",
                                                     "b": "model-00002-of-00002.safetensors"}})");
  const std::string message = user_error_message([&] { CheckpointFiles::open_dir(dir.path()); });
  EXPECT_TRUE(contains(message, dir.file("model.safetensors.index.json") +
                                    ": tensor 'b' is in shard 'model-00002-of-00002.safetensors', which does not exist"));
}

TEST(OpenDir, IndexMapsTensorToShardLackingIt) {
  test::TempDir dir;
  write_one_shard_checkpoint(dir, R"({"weight_map": {"a": "model-00001-of-00001.safetensors",
                                                     "ghost": "model-00001-of-00001.safetensors"}})");
  const std::string message = user_error_message([&] { CheckpointFiles::open_dir(dir.path()); });
  EXPECT_TRUE(contains(message, dir.file("model.safetensors.index.json") + ": tensor 'ghost' is mapped to " +
                                    dir.file("model-00001-of-00001.safetensors") + ", which does not contain it"));
}

TEST(OpenDir, IndexShardOutsideDirectoryRefused) {
  test::TempDir dir;
  write_one_shard_checkpoint(dir, R"({"weight_map": {"a": "../elsewhere/model.safetensors"}})");
  const std::string message = user_error_message([&] { CheckpointFiles::open_dir(dir.path()); });
  EXPECT_TRUE(contains(message, dir.file("model.safetensors.index.json") + ": tensor 'a' maps to "
                                "'../elsewhere/model.safetensors', which is not a file name in the same directory"));
}

TEST(OpenDir, PrefersIndexOverSingleFile) {
  test::TempDir dir;
  write_one_shard_checkpoint(dir, R"({"weight_map": {"a": "model-00001-of-00001.safetensors"}})");
  test::write_bytes(dir.file("model.safetensors"),
                    test::safetensors_bytes("{" + tensor_entry("single", "F32", {1}, 0, 4) + "}", "abcd"));
  const CheckpointFiles checkpoint = CheckpointFiles::open_dir(dir.path());
  EXPECT_EQ(checkpoint.tensor_names(), (std::vector<std::string>{"a"}));
}

TEST(Checkpoint, MissingTensorNamed) {
  const CheckpointFiles checkpoint = CheckpointFiles::open_dir(kLlamaDir);
  const std::string message = user_error_message([&] { checkpoint.find("model.layers.9.mlp.up_proj.weight"); });
  EXPECT_TRUE(contains(message, kLlamaDir + ": no tensor 'model.layers.9.mlp.up_proj.weight'"));
}

TEST(Checkpoint, ShardedWriteReadsBackEqual) {
  test::TempDir dir;
  const auto tensors = sample_tensors();  // 64, 128, 192, 256, 320 bytes
  save_checkpoint(dir.path(), tensors, /*max_shard_bytes=*/384);
  // Greedy packing: {0, 1, 2} = 384, {3} = 256, {4} = 320.
  EXPECT_EQ(file_names(dir.path()),
            (std::set<std::string>{"model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                                   "model-00003-of-00003.safetensors", "model.safetensors.index.json"}));

  const nlohmann::json index = nlohmann::json::parse(test::read_bytes(dir.file("model.safetensors.index.json")));
  EXPECT_EQ(index["metadata"]["total_size"], 64 + 128 + 192 + 256 + 320);
  EXPECT_EQ(index["weight_map"]["layer.2.weight"], "model-00001-of-00003.safetensors");
  EXPECT_EQ(index["weight_map"]["layer.4.weight"], "model-00003-of-00003.safetensors");

  const CheckpointFiles checkpoint = CheckpointFiles::open_dir(dir.path());
  EXPECT_EQ(checkpoint.files().size(), 3u);
  ASSERT_EQ(checkpoint.tensor_names().size(), tensors.size());
  for (const auto& [name, expected] : tensors) EXPECT_TRUE(torch::equal(load_tensor(checkpoint, name), expected)) << name;
  EXPECT_EQ(checkpoint.files().front()->metadata().at("format"), "pt");
}

TEST(Checkpoint, SwitchingLayoutRemovesStaleFiles) {
  test::TempDir dir;
  const auto tensors = sample_tensors();
  save_checkpoint(dir.path(), tensors, /*max_shard_bytes=*/320);  // 4 shards
  test::write_bytes(dir.file("config.json"), "{}");                // not a weight file: must survive

  save_checkpoint(dir.path(), tensors, /*max_shard_bytes=*/384);  // 3 shards replace the 4
  EXPECT_EQ(file_names(dir.path()),
            (std::set<std::string>{"config.json", "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                                   "model-00003-of-00003.safetensors", "model.safetensors.index.json"}));

  save_checkpoint(dir.path(), tensors);  // fits in one file
  EXPECT_EQ(file_names(dir.path()), (std::set<std::string>{"config.json", "model.safetensors"}));
  const CheckpointFiles single = CheckpointFiles::open_dir(dir.path());
  for (const auto& [name, expected] : tensors) EXPECT_TRUE(torch::equal(load_tensor(single, name), expected)) << name;

  save_checkpoint(dir.path(), tensors, /*max_shard_bytes=*/384);
  EXPECT_FALSE(fs::exists(dir.file("model.safetensors")));
  EXPECT_EQ(CheckpointFiles::open_dir(dir.path()).files().size(), 3u);
}

}  // namespace
}  // namespace lincat::io
