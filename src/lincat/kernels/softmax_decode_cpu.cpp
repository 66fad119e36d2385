#include "lincat/kernels/softmax_decode_cpu.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "lincat/kernels/matvec_cpu.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace lincat::kernels {
namespace {

#if defined(__x86_64__)
// y += a x over n floats.
__attribute__((target("avx512f"))) void axpy_avx512(float a, const float* x, float* y, int64_t n) {
  const __m512 scale = _mm512_set1_ps(a);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_fmadd_ps(scale, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
  if (i < n) {
    const __mmask16 tail = static_cast<__mmask16>((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(y + i, tail,
                          _mm512_fmadd_ps(scale, _mm512_maskz_loadu_ps(tail, x + i), _mm512_maskz_loadu_ps(tail, y + i)));
  }
}

__attribute__((target("avx2,fma"))) void axpy_avx2(float a, const float* x, float* y, int64_t n) {
  const __m256 scale = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(scale, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] = std::fma(a, x[i], y[i]);
}

void axpy(float a, const float* x, float* y, int64_t n) {
  static const bool avx512 = matvec_isa_available(MatvecIsa::Avx512);
  if (avx512) {
    axpy_avx512(a, x, y, n);
  } else {
    axpy_avx2(a, x, y, n);
  }
}
#else
void axpy(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = std::fma(a, x[i], y[i]);
}
#endif

}  // namespace

void softmax_decode_row(const SoftmaxDecodeRow& a) {
  const int64_t d = a.head_dim, S = a.keys, group = a.heads / a.kv_heads;
  thread_local std::vector<float> weights;
  weights.resize(static_cast<size_t>(S));
  float* p = weights.data();  // [S]
  for (int64_t h = 0; h < a.heads; ++h) {
    const int64_t g = h / group;
    const float* keys = a.k + g * a.kv_head_stride;
    const float* values = a.v + g * a.kv_head_stride;
    matvec_rows(keys, a.q + h * d, p, d, 0, S);  // the keys are a [S, d] matrix: scores = K q
    float top = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < S; ++j) {
      p[j] *= a.scale;
      top = std::max(top, p[j]);
    }
    float total = 0;
    for (int64_t j = 0; j < S; ++j) {
      p[j] = std::exp(p[j] - top);
      total += p[j];
    }
    float* out = a.out + h * d;
    std::fill(out, out + d, 0.0f);
    for (int64_t j = 0; j < S; ++j) axpy(p[j] / total, values + j * d, out, d);
  }
}

}  // namespace lincat::kernels
