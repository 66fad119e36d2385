// The elementwise pieces of a decode step for one float32 row on the CPU: RMS normalisation,
// rotary embedding of one position, and the MLP's silu(gate) * up. Each is a single loop where
// libtorch spends 2-14 operator calls of a few microseconds each; a 100M model's decode step ran
// about 60 such calls per layer (docs/BENCHMARKS.md). They compute what model/layers.cpp and
// model/rope.cpp compute with operators, in the same float32 arithmetic, up to the rounding of
// the order of a sum and of the library's exp, cos and sin. No torch here: raw pointers.
#pragma once
#include <cstdint>

namespace lincat::kernels {

// out[i] = weight[i] * (x[i] / sqrt(mean(x^2) + eps)), i < n.
void rms_norm_row(const float* x, const float* weight, float eps, int64_t n, float* out);

// Rotate-half rotary embedding of `heads` rows of head_dim d at `position`: for i < d/2, with
// angle = position * inverse_frequencies[i],
//   out[i] = x[i] cos - x[i + d/2] sin,  out[i + d/2] = x[i + d/2] cos + x[i] sin.
void rope_rows(const float* x, const float* inverse_frequencies, int64_t position, int64_t heads, int64_t d,
               float* out);

// out[i] = gate[i] / (1 + exp(-gate[i])) * up[i], i < n.
void silu_mul_row(const float* gate, const float* up, int64_t n, float* out);

// y[i] = y[i] + scale * x[i], i < n, rounded after the product and after the sum (as the
// operators y + scale * x): a residual connection (scale 1) or a LoRA update.
void add_scaled_row(const float* x, float scale, int64_t n, float* y);

}  // namespace lincat::kernels
