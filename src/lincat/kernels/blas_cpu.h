// Row-major matrix products through the BLAS library libtorch itself loaded (Debian: OpenBLAS
// behind libblas.so.3), for kernels that run many small products on raw buffers. A libtorch call
// per product costs several microseconds of dispatch and lets OpenBLAS start its own threads for
// a [64 x 128] x [128 x 128] block; a direct call from one thread per head ran such blocks at
// 50-60 GFLOP/s per core where at::bmm over the same blocks ran at 2-40 (2026-12-02, 2 cores).
// No torch here.
#pragma once
#include <cstdint>

namespace lincat::kernels {

// Whether the process has a BLAS gemm for T (float, double): found by symbol at first use. A
// libtorch that links its BLAS statically (the PyPI builds) hides it; callers then use libtorch.
template <typename T>
bool blas_gemm_available();

// c[m x n] = alpha op(a) op(b) + beta c, all row-major; op(x) = x^T where the flag is set, and
// lda, ldb, ldc are the row strides of the stored matrices. Requires blas_gemm_available<T>().
template <typename T>
void gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
          int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

// While any is alive, OpenBLAS runs each call on the calling thread alone (no effect with another
// BLAS): for kernels that already run one product per thread. Counted across threads (the demo
// runs jobs side by side): the first sets one thread, the last restores the previous count.
class SingleThreadedBlas {
 public:
  SingleThreadedBlas();
  ~SingleThreadedBlas();
  SingleThreadedBlas(const SingleThreadedBlas&) = delete;
  SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;
};

}  // namespace lincat::kernels
