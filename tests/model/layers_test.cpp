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

}  // namespace
