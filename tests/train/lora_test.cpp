// LoRA: a zero B leaves outputs unchanged, adapters survive saving and loading, and merging them
// into the base weights leaves outputs unchanged.
#include <gtest/gtest.h>

#include "lincat/model/converted_model.h"
#include "lincat/model/decoder.h"
#include "lincat/train/lora.h"
#include "support/temp_dir.h"
#include "support/tiny_teacher.h"

namespace lincat::train {
namespace {

std::shared_ptr<Model> tiny_converted(const test::TempDir& dir) {
  const auto teacher = load_model(test::write_tiny_teacher(dir.file("teacher")));
  attention::HybridConfig hybrid;
  hybrid.window = 8;
  hybrid.feature_dim = 8;
  return convert_init(*teacher, hybrid);
}

const at::Tensor kIds = torch::arange(40).remainder(300).view({1, 40});

TEST(TrainLora, ZeroBLeavesOutputsUnchanged) {
  test::TempDir dir;
  auto model = tiny_converted(dir);
  const at::Tensor before = forward(*model, kIds);
  LoraSettings settings;
  settings.targets = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
  add_lora(*model, settings);
  EXPECT_TRUE(at::equal(forward(*model, kIds), before));
  // And a non-zero B does change them: the adapters are really on the path.
  model->weights.layers[0].lora.v_proj.b.fill_(0.1);
  EXPECT_GT((forward(*model, kIds) - before).abs().max().item<double>(), 1e-3);
}

TEST(TrainLora, AdaptersSaveLoadAndMergeWithUnchangedOutputs) {
  test::TempDir dir;
  auto model = tiny_converted(dir);
  torch::manual_seed(3);
  LoraSettings settings;
  settings.targets = {"q_proj", "v_proj", "down_proj"};
  settings.rank = 4;
  settings.alpha = 8;
  add_lora(*model, settings);
  for (LayerWeights& layer : model->weights.layers) {
    for (const std::string& target : settings.targets) lora_adapter(layer, target).b.normal_(0, 0.05);
  }
  const at::Tensor adapted = forward(*model, kIds);
  save_model(*model, dir.file("with-lora"));
  const auto loaded = load_model(dir.file("with-lora"));
  ASSERT_TRUE(loaded->config.lora);
  EXPECT_EQ(loaded->config.lora->targets, settings.targets);
  EXPECT_TRUE(at::allclose(forward(*loaded, kIds), adapted, 1e-5, 1e-5));

  auto merged = std::make_shared<Model>(*loaded);
  merge_lora(*merged);
  EXPECT_FALSE(merged->config.lora);
  EXPECT_LE((forward(*merged, kIds) - adapted).abs().max().item<double>(), 1e-4);
  save_model(*merged, dir.file("merged"));
  const auto reloaded = load_model(dir.file("merged"));
  EXPECT_FALSE(reloaded->config.lora);
  EXPECT_LE((forward(*reloaded, kIds) - adapted).abs().max().item<double>(), 1e-4);
}

}  // namespace
}  // namespace lincat::train
