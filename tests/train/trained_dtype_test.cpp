// A 16-bit model trains float32 masters: the tensors a conversion adds (feature maps, mixing
// logits, LoRA) are created, trained (gradients and AdamW state), saved and loaded in float32
// while the pretrained weights stay bfloat16, so that updates smaller than bfloat16's spacing are
// kept instead of rounded away.
#include <gtest/gtest.h>

#include "lincat/io/safetensors.h"
#include "lincat/model/converted_model.h"
#include "lincat/model/decoder.h"
#include "lincat/train/adamw.h"
#include "lincat/train/checkpoint.h"
#include "lincat/train/finetune_loss.h"
#include "lincat/train/lora.h"
#include "lincat/util/compat.h"
#include "support/temp_dir.h"
#include "support/tiny_teacher.h"

namespace lincat::train {
namespace {

void expect_slot_dtypes(Model& model, at::ScalarType frozen, at::ScalarType trained, const std::string& where) {
  int trained_count = 0;
  for (const TensorSlot& slot : tensor_slots(model.config, model.weights)) {
    EXPECT_EQ(slot.tensor->scalar_type(), slot.trained ? trained : frozen) << where << ": " << slot.name;
    trained_count += slot.trained;
  }
  EXPECT_GT(trained_count, 0) << where;
}

TEST(TrainedDtype, TrainedDtypeIsFloat32ForSixteenBitModelsOnly) {
  EXPECT_EQ(trained_dtype(at::kBFloat16), at::kFloat);
  EXPECT_EQ(trained_dtype(at::kHalf), at::kFloat);
  EXPECT_EQ(trained_dtype(at::kFloat), at::kFloat);
  EXPECT_EQ(trained_dtype(at::kDouble), at::kDouble);  // float64 gradient checks stay float64
}

TEST(TrainedDtype, Bfloat16ModelTrainsSavesAndLoadsFloat32Masters) {
  at::set_num_threads(1);
  test::TempDir dir;
  LoadOptions options;
  options.dtype = at::kBFloat16;
  const auto teacher = load_model(test::write_tiny_teacher(dir.file("teacher")), options);
  attention::HybridConfig hybrid;
  hybrid.window = 8;
  hybrid.feature_dim = 4;
  const auto student = convert_init(*teacher, hybrid, attention::Mode::Hybrid);
  torch::manual_seed(5);
  add_lora(*student, LoraSettings{});
  expect_slot_dtypes(*student, at::kBFloat16, at::kFloat, "converted");

  std::vector<NamedParameter> parameters = trainable_tensors(*student);
  for (NamedParameter& p : parameters) p.tensor.requires_grad_(true);
  const at::Tensor ids = torch::randint(3, 300, {2, 24}, at::kLong);
  const at::Tensor mask = torch::ones({2, 24}, at::kLong);
  finetune_losses(*student, nullptr, ids, mask, attention::Mode::Hybrid, hybrid, {}, 0, 1.0, true);
  for (const NamedParameter& p : parameters) {
    ASSERT_TRUE(compat::has_grad(p.tensor)) << p.name;
    EXPECT_EQ(p.tensor.grad().scalar_type(), at::kFloat) << p.name;
  }

  // An update of 1e-4 on a mixing logit of -2.197 (bfloat16's spacing there is 2^-6) survives.
  at::Tensor& logit = student->weights.layers[0].hybrid.mixing_logit;
  const at::Tensor before = logit.detach().clone();
  AdamW optimiser(parameters);
  optimiser.step(1e-4, 0.0);
  const double moved = (logit.detach() - before).abs().max().item<double>();
  EXPECT_GT(moved, 5e-5);
  EXPECT_LT(moved, 2e-4);
  for (const auto& [name, state] : optimiser.state()) EXPECT_EQ(state.scalar_type(), at::kFloat) << name;

  // Saved and read back under bfloat16: the masters are bitwise the same float32 tensors.
  const std::string saved = dir.file("converted");
  save_model(*student, saved);
  const auto file = io::SafetensorsFile::open(saved + "/model.safetensors");
  const io::TensorInfo* stored = file->find("model.layers.0.self_attn.mixing_logit");
  ASSERT_NE(stored, nullptr);
  EXPECT_EQ(stored->dtype, io::DType::F32);
  const auto reloaded = std::const_pointer_cast<Model>(load_model(saved, options));
  expect_slot_dtypes(*reloaded, at::kBFloat16, at::kFloat, "reloaded");
  EXPECT_TRUE(at::equal(reloaded->weights.layers[0].hybrid.mixing_logit, logit.detach()));
  at::NoGradGuard no_grad;
  const at::Tensor logits = forward(*reloaded, ids);
  EXPECT_TRUE(at::equal(logits, forward(*student, ids)));
  EXPECT_TRUE(at::isfinite(logits).all().item<bool>());
}

}  // namespace
}  // namespace lincat::train
