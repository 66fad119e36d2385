// Stage 2's forward pass is forward()'s layer loop: without drops its logits equal forward()'s,
// bit for bit, in every attention mode; dropping every head equals forward() in linear mode.
#include "lincat/train/student_forward.h"

#include <gtest/gtest.h>

#include "lincat/model/converted_model.h"
#include "lincat/model/decoder.h"
#include "lincat/train/checkpoint.h"
#include "support/temp_dir.h"
#include "support/tiny_teacher.h"

namespace lincat::train {
namespace {

struct Converted {
  test::TempDir dir;
  std::shared_ptr<Model> model;
  at::Tensor ids;  // [2, 40]: longer than the window, so every mode's key sets differ
  Converted() {
    const auto teacher = load_model(test::write_tiny_teacher(dir.file("teacher")));
    attention::HybridConfig hybrid;
    hybrid.window = 16;
    hybrid.feature_dim = 8;
    hybrid.sinks = 2;
    model = convert_init(*teacher, hybrid);
    torch::manual_seed(3);
    at::NoGradGuard no_grad;  // feature maps and mixing logits away from their initial values
    for (NamedParameter& p : trainable_tensors(*model)) p.tensor.add_(0.3 * torch::randn_like(p.tensor));
    ids = torch::randint(3, 300, {2, 40});
  }
};

TEST(StudentForward, LogitsEqualForwardInEveryMode) {
  const Converted t;
  torch::NoGradGuard no_grad;
  for (attention::Mode mode : attention::all_modes()) {
    const at::Tensor student = student_logits(*t.model, t.ids, mode, *t.model->config.hybrid, {});
    EXPECT_TRUE(torch::equal(student, forward(*t.model, t.ids, mode))) << attention::mode_name(mode);
  }
}

TEST(StudentForward, DroppingEveryHeadIsLinearMode) {
  const Converted t;
  torch::NoGradGuard no_grad;
  const ModelConfig& c = t.model->config;
  const DropPlan all(static_cast<size_t>(c.num_layers), std::vector<bool>(static_cast<size_t>(c.num_heads), true));
  const at::Tensor student = student_logits(*t.model, t.ids, attention::Mode::Hybrid, *c.hybrid, all);
  EXPECT_TRUE(torch::equal(student, forward(*t.model, t.ids, attention::Mode::Linear)));
  EXPECT_FALSE(torch::equal(student, forward(*t.model, t.ids, attention::Mode::Hybrid)));
}

}  // namespace
}  // namespace lincat::train
