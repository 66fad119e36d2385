#include "lincat/kernels/softmax_decode_cpu.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "lincat/kernels/matvec_cpu.h"
#include "lincat/kernels/vector_ops_cpu.h"

namespace lincat::kernels {

void softmax_decode_row(const SoftmaxDecodeRow& a) {
  const int64_t d = a.head_dim, S = a.keys, group = a.heads / a.kv_heads;
  thread_local std::vector<float> probabilities;
  probabilities.resize(static_cast<size_t>(S));
  float* p = probabilities.data();  // [S]
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
    for (int64_t j = 0; j < S; ++j) axpy(d, p[j] / total, values + j * d, out);
  }
}

}  // namespace lincat::kernels
