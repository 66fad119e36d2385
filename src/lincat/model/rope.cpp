#include "lincat/model/rope.h"

#include <cmath>

#include "lincat/kernels/row_ops_cpu.h"
#include "lincat/util/compat.h"

namespace lincat::rope {
namespace {

// Llama 3.1 scaling: long wavelengths are slowed by `factor`, short ones kept, and the band in
// between interpolated smoothly (the published llama3 rule).
at::Tensor llama3_scaled(const at::Tensor& inv_freq, const RopeScaling& s) {
  const double old_context = static_cast<double>(s.original_max_position_embeddings);
  const double low_freq_wavelength = old_context / s.low_freq_factor;
  const double high_freq_wavelength = old_context / s.high_freq_factor;
  const at::Tensor wavelength = 2 * M_PI / inv_freq;                                   // [d/2]
  at::Tensor scaled = at::where(wavelength > low_freq_wavelength, inv_freq / s.factor, inv_freq);
  const at::Tensor smooth =
      (old_context / wavelength - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
  const at::Tensor smoothed = (1 - smooth) * scaled / s.factor + smooth * scaled;
  const at::Tensor medium = (wavelength >= high_freq_wavelength) & (wavelength <= low_freq_wavelength);
  return at::where(medium, smoothed, scaled);
}

}  // namespace

at::Tensor inverse_frequencies(const ModelConfig& config) {
  const int64_t d = config.head_dim;
  // inv_freq[i] = theta^(-2i/d), computed in float32 like the reference implementation.
  const at::Tensor exponents = torch::arange(0, d, 2, torch::kInt64).to(torch::kFloat) / static_cast<float>(d);
  at::Tensor inv_freq = 1.0 / torch::pow(static_cast<float>(config.rope_theta), exponents);  // [d/2]
  if (config.rope_scaling) {
    const RopeScaling& scaling = *config.rope_scaling;
    if (scaling.kind == "llama3") inv_freq = llama3_scaled(inv_freq, scaling);
    if (scaling.kind == "linear") inv_freq = inv_freq / scaling.factor;
  }
  return inv_freq;
}

at::Tensor apply(const at::Tensor& x, const at::Tensor& inverse_frequencies, int64_t start) {
  const int64_t T = x.size(2);
  if (x.size(0) == 1 && T == 1 && x.device().is_cpu() && x.scalar_type() == at::kFloat &&
      inverse_frequencies.device().is_cpu() && inverse_frequencies.scalar_type() == at::kFloat &&
      inverse_frequencies.is_contiguous() && !at::GradMode::is_enabled()) {
    // One token of a decode step: one loop instead of a dozen operators.
    const at::Tensor input = x.contiguous();  // [1, h, 1, d]
    at::Tensor out = at::empty_like(input);
    kernels::rope_rows(compat::const_data<float>(input), compat::const_data<float>(inverse_frequencies), start,
                       x.size(1), x.size(3), out.data_ptr<float>());
    return out;
  }
  const int64_t half = x.size(3) / 2;
  const at::Tensor positions =
      torch::arange(start, start + T, torch::TensorOptions().dtype(torch::kInt64).device(x.device()))
          .to(torch::kFloat);                                                      // [T]
  const at::Tensor angles = torch::outer(positions, inverse_frequencies.to(x.device()));  // [T, d/2]
  const at::Tensor both = torch::cat({angles, angles}, -1);                              // [T, d]
  const at::Tensor cos = both.cos().to(x.scalar_type());                                 // [T, d]
  const at::Tensor sin = both.sin().to(x.scalar_type());
  const at::Tensor rotated = torch::cat({-x.narrow(3, half, half), x.narrow(3, 0, half)}, 3);
  return x * cos + rotated * sin;                                                        // [B, h, T, d]
}

}  // namespace lincat::rope
