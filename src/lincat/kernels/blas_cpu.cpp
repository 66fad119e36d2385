#include "lincat/kernels/blas_cpu.h"

#include <dlfcn.h>

#include <climits>
#include <mutex>
#include <stdexcept>

namespace lincat::kernels {
namespace {

// The Fortran interface every BLAS exports (column-major; arguments by pointer).
template <typename T>
using FortranGemm = void (*)(const char* transa, const char* transb, const int* m, const int* n,
                             const int* k, const T* alpha, const T* a, const int* lda, const T* b,
                             const int* ldb, const T* beta, T* c, const int* ldc);

template <typename T>
FortranGemm<T> fortran_gemm() {
  static const FortranGemm<T> found = reinterpret_cast<FortranGemm<T>>(
      dlsym(RTLD_DEFAULT, sizeof(T) == sizeof(float) ? "sgemm_" : "dgemm_"));
  return found;
}

using SetThreads = void (*)(int);
using GetThreads = int (*)();

int to_int(int64_t value) {
  if (value < 0 || value > INT_MAX) throw std::invalid_argument("BLAS dimension out of int range");
  return static_cast<int>(value);
}

}  // namespace

template <typename T>
bool blas_gemm_available() {
  return fortran_gemm<T>() != nullptr;
}

template <typename T>
void gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
          int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: the same buffers, swapped.
  const char trans_b = transpose_b ? 'T' : 'N', trans_a = transpose_a ? 'T' : 'N';
  const int rows = to_int(n), cols = to_int(m), inner = to_int(k);
  const int ld_b = to_int(ldb), ld_a = to_int(lda), ld_c = to_int(ldc);
  if (inner == 0) {  // BLAS would still scale c by beta; do the same without reading a or b
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == T(0) ? T(0) : beta * c[i * ldc + j];
    }
    return;
  }
  fortran_gemm<T>()(&trans_b, &trans_a, &rows, &cols, &inner, &alpha, b, &ld_b, a, &ld_a, &beta, c,
                    &ld_c);
}

namespace {

// OpenBLAS's thread count, if this is OpenBLAS, and the guards alive.
struct BlasThreads {
  GetThreads get = reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  SetThreads set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  std::mutex mutex;
  int guards = 0;
  int restore = 0;  // the count before the first guard; 0: nothing to restore
};

BlasThreads& blas_threads() {
  static BlasThreads threads;
  return threads;
}

}  // namespace

SingleThreadedBlas::SingleThreadedBlas() {
  BlasThreads& blas = blas_threads();
  if (blas.get == nullptr || blas.set == nullptr) return;
  const std::lock_guard<std::mutex> lock(blas.mutex);
  if (blas.guards++ > 0) return;
  const int current = blas.get();
  blas.restore = current > 1 ? current : 0;
  if (blas.restore > 0) blas.set(1);
}

SingleThreadedBlas::~SingleThreadedBlas() {
  BlasThreads& blas = blas_threads();
  if (blas.get == nullptr || blas.set == nullptr) return;
  const std::lock_guard<std::mutex> lock(blas.mutex);
  if (--blas.guards == 0 && blas.restore > 0) blas.set(blas.restore);
}

template bool blas_gemm_available<float>();
template bool blas_gemm_available<double>();
template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                          const float*, int64_t, float, float*, int64_t);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t,
                           const double*, int64_t, double, double*, int64_t);

}  // namespace lincat::kernels
