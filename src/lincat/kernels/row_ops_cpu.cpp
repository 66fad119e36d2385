#include "lincat/kernels/row_ops_cpu.h"

#include <cmath>

namespace lincat::kernels {

void rms_norm_row(const float* x, const float* weight, float eps, int64_t n, float* out) {
  double squares = 0;  // in double: the order of the sum then hardly matters
  for (int64_t i = 0; i < n; ++i) squares += static_cast<double>(x[i]) * x[i];
  const float inverse_rms = 1.0f / std::sqrt(static_cast<float>(squares / static_cast<double>(n)) + eps);
  for (int64_t i = 0; i < n; ++i) out[i] = weight[i] * (x[i] * inverse_rms);
}

void rope_rows(const float* x, const float* inverse_frequencies, int64_t position, int64_t heads, int64_t d,
               float* out) {
  const int64_t half = d / 2;
  const float p = static_cast<float>(position);  // as the operators: float32 positions and angles
  for (int64_t i = 0; i < half; ++i) {
    const float angle = p * inverse_frequencies[i];
    const float cos = std::cos(angle), sin = std::sin(angle);
    for (int64_t h = 0; h < heads; ++h) {
      const float* row = x + h * d;
      float* rotated = out + h * d;
      rotated[i] = row[i] * cos + -row[i + half] * sin;
      rotated[i + half] = row[i + half] * cos + row[i] * sin;
    }
  }
}

void silu_mul_row(const float* gate, const float* up, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void add_scaled_row(const float* x, float scale, int64_t n, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = y[i] + scale * x[i];
}

}  // namespace lincat::kernels
