// Stage 1: teacher-forced attention transfer cuts the transfer loss several-fold, trains only the
// feature maps and mixing logits, and its blockwise attention-weight loss does not depend on the
// block size. (On this random teacher the output MSE falls about 4x within 60 steps and then
// flattens: 8 features per head cannot match attention to random far-away keys.)
#include <gtest/gtest.h>

#include "lincat/model/converted_model.h"
#include "lincat/train/adamw.h"
#include "lincat/train/attention_transfer.h"
#include "lincat/train/checkpoint.h"
#include "support/temp_dir.h"
#include "support/tiny_teacher.h"

namespace lincat::train {
namespace {

struct Tiny {
  test::TempDir dir;
  std::shared_ptr<const Model> teacher;
  std::shared_ptr<Model> student;
  at::Tensor ids;  // [2, 64]
  Tiny() {
    teacher = load_model(test::write_tiny_teacher(dir.file("teacher")));
    attention::HybridConfig hybrid;
    hybrid.window = 16;
    hybrid.feature_dim = 8;
    student = convert_init(*teacher, hybrid);
    torch::manual_seed(5);
    ids = torch::randint(3, 300, {2, 64});
  }
};

// Stage 1 with the attention-weight cross-entropy alone (Hedgehog's transfer).
Stage1Settings attention_weight_transfer() {
  Stage1Settings settings;
  settings.output_mse_weight = 0;
  settings.attention_weight_weight = 1;
  settings.optimiser.learning_rate = 0.05;
  return settings;
}

double train_transfer(Tiny& t, const Stage1Settings& settings, int steps,
                      attention::Mode mode = attention::Mode::Hybrid) {
  std::vector<NamedParameter> parameters = trainable_tensors(*t.student);
  for (NamedParameter& p : parameters) p.tensor.requires_grad_(true);
  AdamW optimiser(parameters);
  for (int step = 0; step < steps; ++step) {
    optimiser.zero_grad();
    transfer_losses(*t.student, t.ids, mode, settings, 1.0, true);
    optimiser.step(settings.optimiser.learning_rate, 0);
  }
  at::NoGradGuard no_grad;
  return transfer_losses(*t.student, t.ids, mode, settings, 1.0, false).total;
}

TEST(TrainStage1, OutputMseTransferCutsTheLossSeveralFold) {
  Tiny t;
  Stage1Settings settings;
  settings.optimiser.learning_rate = 0.05;
  const at::Tensor base_q_proj = t.student->weights.layers[0].q_proj.clone();
  double before = 0;
  {
    at::NoGradGuard no_grad;
    before = transfer_losses(*t.student, t.ids, attention::Mode::Hybrid, settings, 1.0, false).total;
  }
  const double after = train_transfer(t, settings, 60);
  EXPECT_LT(after, before / 3) << "before " << before << " after " << after;
  EXPECT_TRUE(at::equal(t.student->weights.layers[0].q_proj, base_q_proj));  // frozen
}

TEST(TrainStage1, AttentionWeightTransferLowersTheLossAndIgnoresBlockSize) {
  Tiny t;
  Stage1Settings settings = attention_weight_transfer();
  const auto loss_with_block = [&](int64_t block) {
    at::NoGradGuard no_grad;
    settings.query_block = block;
    return transfer_losses(*t.student, t.ids, attention::Mode::Hybrid, settings, 1.0, false).attention_ce;
  };
  const double whole = loss_with_block(64);
  EXPECT_NEAR(whole, loss_with_block(7), 1e-5 * whole);
  // The cross-entropy includes the teacher's entropy, which no student can remove: the
  // learnable part is a small share of it here.
  const double after = train_transfer(t, settings, 40);
  EXPECT_LT(after, whole * 0.95) << "before " << whole << " after " << after;
}

// HedgeCATs' stage 1: in linear mode the student's weights are the linear branch alone over every
// causal key, so gamma (the mixing logit) takes no part, the loss differs from hybrid mode's, and
// training the feature maps lowers it.
TEST(TrainStage1, LinearModeAttentionTransferUsesTheLinearBranchAlone) {
  Tiny t;
  Stage1Settings settings = attention_weight_transfer();
  const auto loss = [&](attention::Mode mode) {
    at::NoGradGuard no_grad;
    return transfer_losses(*t.student, t.ids, mode, settings, 1.0, false).attention_ce;
  };
  const double linear = loss(attention::Mode::Linear), hybrid = loss(attention::Mode::Hybrid);
  EXPECT_GT(std::abs(linear - hybrid), 1e-3 * linear) << linear << " " << hybrid;
  {
    at::NoGradGuard no_grad;
    for (LayerWeights& layer : t.student->weights.layers) layer.hybrid.mixing_logit.add_(3.0);
  }
  EXPECT_NEAR(loss(attention::Mode::Linear), linear, 1e-6 * linear);
  EXPECT_GT(std::abs(loss(attention::Mode::Hybrid) - hybrid), 1e-3 * hybrid);
  const double after = train_transfer(t, settings, 40, attention::Mode::Linear);
  EXPECT_LT(after, linear * 0.97) << "before " << linear << " after " << after;  // measured: 3.05 -> 2.92
}

}  // namespace
}  // namespace lincat::train
