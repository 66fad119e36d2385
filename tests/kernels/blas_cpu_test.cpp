// The row-major gemm over the process's BLAS and the OpenBLAS thread guard (kernels/blas_cpu.h).
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "lincat/kernels/blas_cpu.h"

namespace lincat::kernels {
namespace {

// Every transpose combination, a beta that accumulates, row strides wider than the rows, and an
// empty inner dimension, against at::matmul in float64.
TEST(BlasGemm, RowMajorProductsEqualTheMatmulForEveryTransposeAndStride) {
  ASSERT_TRUE(blas_gemm_available<double>()) << "libtorch's BLAS is not visible to dlsym";
  at::manual_seed(3);
  const int64_t m = 5, n = 7, k = 3, pad = 2;
  for (const bool transpose_a : {false, true}) {
    for (const bool transpose_b : {false, true}) {
      SCOPED_TRACE(std::to_string(transpose_a) + std::to_string(transpose_b));
      // Stored with `pad` extra columns per row: the products read only the first ones.
      const at::Tensor a_stored = at::randn({transpose_a ? k : m, (transpose_a ? m : k) + pad}, at::kDouble);
      const at::Tensor b_stored = at::randn({transpose_b ? n : k, (transpose_b ? k : n) + pad}, at::kDouble);
      const at::Tensor a = a_stored.narrow(1, 0, transpose_a ? m : k);
      const at::Tensor b = b_stored.narrow(1, 0, transpose_b ? k : n);
      const at::Tensor c_stored = at::randn({m, n + pad}, at::kDouble);
      const at::Tensor expected =
          0.5 * at::matmul(transpose_a ? a.t() : a, transpose_b ? b.t() : b) + 2.0 * c_stored.narrow(1, 0, n);
      gemm<double>(transpose_a, transpose_b, m, n, k, 0.5, a_stored.data_ptr<double>(), a_stored.size(1),
                   b_stored.data_ptr<double>(), b_stored.size(1), 2.0, c_stored.data_ptr<double>(), c_stored.size(1));
      EXPECT_TRUE(at::allclose(c_stored.narrow(1, 0, n), expected, 1e-12, 1e-12));
    }
  }
  at::Tensor c = at::full({2, 3}, 4.0, at::kDouble);
  gemm<double>(false, false, 2, 3, 0, 1.0, nullptr, 1, nullptr, 3, 0.5, c.data_ptr<double>(), 3);
  EXPECT_TRUE(at::equal(c, at::full({2, 3}, 2.0, at::kDouble)));
}

TEST(BlasThreads, GuardsHoldOneThreadUntilTheLastOneEnds) {
  const auto get = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  const auto set = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (get == nullptr || set == nullptr) GTEST_SKIP() << "the BLAS is not OpenBLAS";
  const int before = get();
  set(2);
  {
    const SingleThreadedBlas outer;
    EXPECT_EQ(get(), 1);
    {
      const SingleThreadedBlas inner;  // as a second job's kernel would
      EXPECT_EQ(get(), 1);
    }
    EXPECT_EQ(get(), 1) << "the inner guard ended while the outer one still runs";
  }
  EXPECT_EQ(get(), 2);
  set(before);
}

}  // namespace
}  // namespace lincat::kernels
