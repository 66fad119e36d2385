#include "lincat/model/layers.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "lincat/kernels/matvec_cpu.h"

#include "lincat/model/decoder.h"
#include "lincat/model/rope.h"
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

// The streaming float32 kernel behind project's matrix-vector path, for each instruction set this
// CPU has: every remainder of columns (blocks of 64 or 32, vectors of 16 or 8), rows that start on
// a cache line and rows that do not (a mapped file's tensors), against a float64 product; and the
// same bits however its rows are split between threads.
TEST(MatvecKernel, EqualsTheProductForEveryRemainderAlignmentAndSplit) {
  using lincat::kernels::MatvecIsa;
  if (!lincat::kernels::matvec_available()) GTEST_SKIP() << "this CPU has neither AVX2+FMA nor AVX-512";
  for (const MatvecIsa isa : {MatvecIsa::Avx2Fma, MatvecIsa::Avx512}) {
    if (!lincat::kernels::matvec_isa_available(isa)) continue;
    const auto rows_of = [isa](const at::Tensor& weight, const at::Tensor& x, at::Tensor& y, int64_t first,
                               int64_t end) {
      lincat::kernels::matvec_rows_with(isa, weight.data_ptr<float>(), x.data_ptr<float>(), y.data_ptr<float>(),
                                        weight.size(1), first, end);
    };
    for (const int64_t rows : {1, 3, 4, 5, 9, 67}) {
      for (const int64_t cols : {1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 129, 200}) {
        for (const int64_t offset : {0, 3, 12}) {  // floats from a 64-byte aligned allocation
          const at::Tensor storage = torch::randn({rows * cols + offset});
          const at::Tensor weight = storage.narrow(0, offset, rows * cols).view({rows, cols});
          const at::Tensor x = torch::randn({cols});
          at::Tensor y = torch::full({rows}, std::nanf(""));
          rows_of(weight, x, y, 0, rows);
          const at::Tensor expected = at::mv(weight.to(at::kDouble), x.to(at::kDouble));
          const std::string where = std::to_string(rows) + " x " + std::to_string(cols) + " at +" + std::to_string(offset);
          EXPECT_TRUE(torch::allclose(y.to(at::kDouble), expected, 1e-5, 1e-5)) << where;
          // Rows in three uneven parts, as threads would take them.
          at::Tensor parts = torch::full({rows}, std::nanf(""));
          const int64_t a = rows / 3, b = rows - rows / 4;
          for (const auto& [first, end] : {std::pair<int64_t, int64_t>{0, a}, {a, b}, {b, rows}}) {
            rows_of(weight, x, parts, first, end);
          }
          EXPECT_TRUE(at::equal(parts, y)) << where;
        }
      }
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

// A decode row's elementwise pieces (kernels/row_ops_cpu.h) against the operators they replace:
// the same function with autograd on takes the operator path.
TEST(DecodeRowOps, RmsNormRopeAndMlpEqualTheOperators) {
  torch::manual_seed(5);
  const auto both = [](const std::function<at::Tensor()>& run) {
    at::Tensor with_operators;
    {
      const at::AutoGradMode grad(true);
      with_operators = run().detach();
    }
    const at::NoGradGuard no_grad;
    return std::make_pair(run(), with_operators);
  };
  const at::Tensor x = torch::randn({1, 1, 96}) * 3;                     // [B=1, T=1, D]
  const at::Tensor weight = torch::randn({96});
  const auto [norm, norm_reference] = both([&] { return lincat::rms_norm(x, weight, 1e-5); });
  EXPECT_TRUE(torch::allclose(norm, norm_reference, 1e-6, 1e-6));

  lincat::ModelConfig config;
  config.head_dim = 32;
  config.rope_theta = 500000;
  const at::Tensor inverse_frequencies = lincat::rope::inverse_frequencies(config);
  const at::Tensor heads = torch::randn({1, 4, 1, 32});                   // [B=1, h, T=1, d]
  for (const int64_t position : {0, 1, 37, 4095, 100000}) {
    const auto [rotated, rotated_reference] = both([&] { return lincat::rope::apply(heads, inverse_frequencies, position); });
    EXPECT_TRUE(torch::allclose(rotated, rotated_reference, 1e-5, 1e-5)) << "position " << position;
  }

  lincat::LayerWeights layer;
  layer.gate_proj = torch::randn({80, 96}) / 10;
  layer.up_proj = torch::randn({80, 96}) / 10;
  layer.down_proj = torch::randn({96, 80}) / 10;
  const auto [mlp, mlp_reference] = both([&] { return lincat::mlp_block(layer, x); });
  EXPECT_TRUE(torch::allclose(mlp, mlp_reference, 1e-5, 1e-5));
  // A block of tokens keeps the operators either way.
  const at::Tensor block = torch::randn({1, 3, 96});
  const auto [norms, norms_reference] = both([&] { return lincat::rms_norm(block, weight, 1e-5); });
  EXPECT_TRUE(at::equal(norms, norms_reference));
}

}  // namespace
