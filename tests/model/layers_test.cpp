#include "lincat/model/layers.h"

#include <gtest/gtest.h>

#include "lincat/model/decoder.h"
#include "test_paths.h"

namespace {

TEST(ResidualStream, HasOneEntryPerLayerPlusTheLastAndRebuildsTheLogits) {
  const auto model = lincat::load_model(LINCAT_TEST_DATA "/hf-reference/llama-gqa");
  torch::NoGradGuard no_grad;
  const at::Tensor ids = torch::randint(512, {2, 9}, torch::kInt64);
  const auto stream = lincat::residual_stream(*model, ids, lincat::attention::Mode::Softmax);
  ASSERT_EQ(stream.size(), 3u);
  // Layer 1 recomputed from the recorded input of layer 1 gives the recorded output.
  const auto& layer = model->weights.layers[1];
  const double eps = model->config.rms_norm_eps;
  const auto [q, k, v] = lincat::project_qkv(*model, layer, lincat::rms_norm(stream[1], layer.input_norm, eps), 0);
  EXPECT_EQ(q.sizes(), (std::vector<int64_t>{2, 4, 9, 16}));
  EXPECT_EQ(k.sizes(), (std::vector<int64_t>{2, 2, 9, 16}));
  const at::Tensor logits = at::linear(lincat::rms_norm(stream[2], model->weights.final_norm, eps), model->weights.lm_head);
  EXPECT_TRUE(torch::allclose(logits, lincat::forward(*model, ids), 1e-5, 1e-5));
}

// One row without autograd takes the matrix-vector path; every shape and mode gives at::linear's
// result (to rounding: the two products sum in different orders).
TEST(Project, EqualsLinearForOneRowAndMany) {
  for (const auto dtype : {at::kFloat, at::kDouble}) {
    const at::Tensor weight = torch::randn({7, 5}, dtype);
    for (const std::vector<int64_t>& shape : {std::vector<int64_t>{5}, {1, 5}, {1, 1, 5}, {2, 3, 5}}) {
      const at::Tensor x = torch::randn(shape, dtype);
      for (const bool grad : {false, true}) {
        const at::AutoGradMode mode(grad);
        const at::Tensor y = lincat::project(x, weight);
        const at::Tensor expected = at::linear(x, weight);
        EXPECT_EQ(y.sizes(), expected.sizes());
        EXPECT_TRUE(torch::allclose(y, expected, 1e-6, 1e-6)) << shape << " grad " << grad;
      }
    }
  }
  // Under autograd a row still gets its gradient (at::linear's path).
  const at::Tensor weight = torch::randn({7, 5}, at::kDouble).requires_grad_(true);
  lincat::project(torch::randn({1, 5}, at::kDouble), weight).sum().backward();
  ASSERT_TRUE(weight.grad().defined());
}

}  // namespace
