#include "lincat/model/layers.h"

#include <gtest/gtest.h>

#include <cmath>

#include "lincat/kernels/matvec_cpu.h"

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

// The streaming float32 kernel behind project's matrix-vector path: every remainder of rows (its
// blocks of 4) and columns (its vectors of 8 or 16), against a float64 product; and the same
// bits however its rows are split between threads.
TEST(MatvecKernel, EqualsTheProductForEveryRemainderAndSplit) {
  if (!lincat::kernels::matvec_available()) GTEST_SKIP() << "this CPU has neither AVX2+FMA nor AVX-512";
  for (const int64_t rows : {1, 3, 4, 5, 9, 67}) {
    for (const int64_t cols : {1, 7, 8, 15, 16, 17, 33, 100}) {
      const at::Tensor weight = torch::randn({rows, cols});
      const at::Tensor x = torch::randn({cols});
      at::Tensor y = torch::full({rows}, std::nanf(""));
      lincat::kernels::matvec_rows(weight.data_ptr<float>(), x.data_ptr<float>(), y.data_ptr<float>(), cols, 0, rows);
      const at::Tensor expected = at::mv(weight.to(at::kDouble), x.to(at::kDouble));
      EXPECT_TRUE(torch::allclose(y.to(at::kDouble), expected, 1e-5, 1e-5)) << rows << " x " << cols;
      // Rows in three uneven parts, as threads would take them.
      at::Tensor parts = torch::full({rows}, std::nanf(""));
      const int64_t a = rows / 3, b = rows - rows / 4;
      for (const auto& [first, end] : {std::pair<int64_t, int64_t>{0, a}, {a, b}, {b, rows}}) {
        lincat::kernels::matvec_rows(weight.data_ptr<float>(), x.data_ptr<float>(), parts.data_ptr<float>(), cols,
                                     first, end);
      }
      EXPECT_TRUE(at::equal(parts, y)) << rows << " x " << cols;
    }
  }
}

TEST(MatvecKernel, ProjectUsesItForOneFloat32Row) {
  if (!lincat::kernels::matvec_available()) GTEST_SKIP() << "this CPU has neither AVX2+FMA nor AVX-512";
  const at::NoGradGuard no_grad;
  const at::Tensor weight = torch::randn({300, 70});
  const at::Tensor x = torch::randn({1, 1, 70});
  at::Tensor expected = torch::empty({300});
  lincat::kernels::matvec_rows(weight.data_ptr<float>(), x.data_ptr<float>(), expected.data_ptr<float>(), 70, 0, 300);
  EXPECT_TRUE(at::equal(lincat::project(x, weight), expected.view({1, 1, 300})));
  // A transposed (non-contiguous) weight falls back to at::mv and still gives the product.
  const at::Tensor transposed = torch::randn({70, 300}).t();
  EXPECT_TRUE(torch::allclose(lincat::project(x, transposed), at::linear(x, transposed), 1e-5, 1e-5));
}

}  // namespace
