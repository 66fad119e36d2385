// Stage 2 within a memory budget: micro-batches with gradient accumulation, per-layer gradient
// checkpointing and the loss over chunks of positions each give the gradients of the plain step
// (float64, a tiny model, LoRA dropout on so that recomputed layers must replay their masks).
#include <gtest/gtest.h>

#include "lincat/model/converted_model.h"
#include "lincat/train/checkpoint.h"
#include "lincat/train/finetune_loss.h"
#include "lincat/train/lora.h"
#include "lincat/util/compat.h"
#include "support/temp_dir.h"
#include "support/tiny_teacher.h"

namespace lincat::train {
namespace {

struct Stage2Setup {
  test::TempDir dir;
  std::shared_ptr<const Model> teacher;
  std::shared_ptr<Model> student;
  attention::HybridConfig hybrid;
  at::Tensor ids, mask;  // [4, 40]

  Stage2Setup() {
    at::set_num_threads(1);
    LoadOptions options;
    options.dtype = at::kDouble;
    teacher = load_model(test::write_tiny_teacher(dir.file("teacher")), options);
    hybrid.window = 8;
    hybrid.feature_dim = 4;
    student = convert_init(*teacher, hybrid, attention::Mode::Hybrid);
    LoraSettings lora;
    lora.dropout = 0.25;
    lora.targets = {"q_proj", "v_proj", "o_proj", "down_proj"};
    torch::manual_seed(3);
    add_lora(*student, lora);
    for (NamedParameter& p : trainable_tensors(*student)) {
      {
        at::NoGradGuard no_grad;
        p.tensor.normal_(0, 0.1);  // away from B = 0, so that every tensor gets a gradient
      }
      p.tensor.requires_grad_(true);
    }
    ids = torch::randint(3, 300, {4, 40}, at::kLong);
    mask = torch::ones({4, 40}, at::kLong);
  }

  // The losses and gradients of one step: `pieces` micro-batches of sequences, each weighted by
  // its share, with `memory`; the same dropout masks for every variant (same seed).
  std::pair<double, std::vector<at::Tensor>> step(int pieces, const LossMemory& memory, double kl_weight) {
    for (NamedParameter& p : trainable_tensors(*student)) p.tensor.mutable_grad() = at::Tensor();
    torch::manual_seed(11);
    double total = 0;
    const int64_t per_piece = ids.size(0) / pieces;
    for (int i = 0; i < pieces; ++i) {
      const double share = 1.0 / pieces;
      total += share * finetune_losses(*student, teacher.get(), ids.narrow(0, i * per_piece, per_piece),
                                       mask.narrow(0, i * per_piece, per_piece), attention::Mode::Hybrid, hybrid, {},
                                       kl_weight, share, true, memory)
                           .total;
    }
    std::vector<at::Tensor> grads;
    for (NamedParameter& p : trainable_tensors(*student)) {
      EXPECT_TRUE(compat::has_grad(p.tensor)) << p.name;
      grads.push_back(compat::has_grad(p.tensor) ? p.tensor.grad().clone() : at::zeros_like(p.tensor));
    }
    return {total, grads};
  }
};

void expect_same(const std::pair<double, std::vector<at::Tensor>>& a, const std::pair<double, std::vector<at::Tensor>>& b,
                 const std::string& what) {
  // The logits are float32 by design (output_logits), so the loss summed in another order differs
  // by float32 rounding; each position's gradient does not depend on that order.
  EXPECT_NEAR(a.first, b.first, 1e-6 * std::max(1.0, std::abs(a.first))) << what;
  ASSERT_EQ(a.second.size(), b.second.size());
  for (size_t i = 0; i < a.second.size(); ++i) {
    const double scale = a.second[i].abs().max().item<double>();
    EXPECT_GT(scale, 0) << what << " tensor " << i;
    EXPECT_LE((a.second[i] - b.second[i]).abs().max().item<double>(), 1e-10 * std::max(1.0, scale)) << what << " tensor " << i;
  }
}

TEST(Stage2Memory, ChunkedLossGivesTheSameGradients) {
  Stage2Setup s;
  for (const double kl : {0.0, 0.5}) {
    const auto plain = s.step(1, {0, false}, kl);
    expect_same(plain, s.step(1, {7, false}, kl), "chunks of 7, kl " + std::to_string(kl));
    expect_same(plain, s.step(1, {1, false}, kl), "chunks of 1, kl " + std::to_string(kl));
  }
}

TEST(Stage2Memory, GradientCheckpointingGivesTheSameGradients) {
  Stage2Setup s;
  for (const double kl : {0.0, 0.5}) {
    const auto plain = s.step(1, {0, false}, kl);
    expect_same(plain, s.step(1, {0, true}, kl), "checkpointing, kl " + std::to_string(kl));
    expect_same(plain, s.step(1, {13, true}, kl), "checkpointing and chunks, kl " + std::to_string(kl));
  }
}

TEST(Stage2Memory, MicroBatchesAccumulateTheSameGradients) {
  Stage2Setup s;  // dropout masks depend on the batch's shape: none here
  for (LayerWeights& layer : s.student->weights.layers) {
    for (LoraAdapter* a : {&layer.lora.q_proj, &layer.lora.v_proj, &layer.lora.o_proj, &layer.lora.down_proj}) a->dropout = 0;
  }
  const auto whole = s.step(1, {0, false}, 0.5);
  expect_same(whole, s.step(2, {0, false}, 0.5), "two micro-batches");
  expect_same(whole, s.step(4, {5, true}, 0.5), "four micro-batches, checkpointed, chunked");
}

}  // namespace
}  // namespace lincat::train
