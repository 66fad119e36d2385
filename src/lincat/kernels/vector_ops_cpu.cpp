#include "lincat/kernels/vector_ops_cpu.h"

namespace lincat::kernels {
namespace {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define LINCAT_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define LINCAT_VECTOR_CLONES
#endif

template <typename T>
inline void axpy_loop(int64_t n, T a, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

template <typename T>
inline T dot_loop(int64_t n, const T* x, const T* y) {
  T partial[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; ++k) partial[k] += x[i + k] * y[i + k];
  }
  T sum = ((partial[0] + partial[1]) + (partial[2] + partial[3])) + ((partial[4] + partial[5]) + (partial[6] + partial[7]));
  for (; i < n; ++i) sum += x[i] * y[i];
  return sum;
}

}  // namespace

LINCAT_VECTOR_CLONES void axpy(int64_t n, float a, const float* x, float* y) { axpy_loop(n, a, x, y); }
LINCAT_VECTOR_CLONES void axpy(int64_t n, double a, const double* x, double* y) { axpy_loop(n, a, x, y); }
LINCAT_VECTOR_CLONES float dot(int64_t n, const float* x, const float* y) { return dot_loop(n, x, y); }
LINCAT_VECTOR_CLONES double dot(int64_t n, const double* x, const double* y) { return dot_loop(n, x, y); }

}  // namespace lincat::kernels
