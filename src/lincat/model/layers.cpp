#include "lincat/model/layers.h"

#include <ATen/Parallel.h>

#include <algorithm>

#include "lincat/kernels/matvec_cpu.h"
#include "lincat/kernels/row_ops_cpu.h"
#include "lincat/model/decoder.h"
#include "lincat/model/rope.h"
#include "lincat/util/compat.h"

namespace lincat {

bool is_float32_decode_row(const at::Tensor& x) {
  return x.numel() == x.size(-1) && x.device().is_cpu() && x.scalar_type() == at::kFloat &&
         !at::GradMode::is_enabled();
}

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  if (is_float32_decode_row(x) && weight.scalar_type() == at::kFloat && weight.is_contiguous()) {
    const at::Tensor input = x.contiguous();
    at::Tensor out = at::empty_like(input);
    kernels::rms_norm_row(compat::const_data<float>(input), compat::const_data<float>(weight), static_cast<float>(eps),
                          input.numel(), out.data_ptr<float>());
    return out;
  }
  const at::Tensor x32 = x.to(at::kFloat);
  const at::Tensor normalised = x32 * at::rsqrt(x32.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return weight * normalised.to(x.scalar_type());
}

void matvec_float32(const float* weight, int64_t rows, int64_t cols, const float* x, float* y) {
  const int64_t grain = std::max<int64_t>(4, kMatvecGrainFloats / std::max<int64_t>(cols, 1));  // rows per task
  at::parallel_for(0, rows, grain, [&](int64_t first, int64_t end) { kernels::matvec_rows(weight, x, y, cols, first, end); });
}

namespace {

// weight [out, in] float32 contiguous, x [in] -> [out] through the streaming kernel.
at::Tensor streamed_matvec(const at::Tensor& weight, const at::Tensor& x) {
  const at::Tensor input = x.contiguous();
  at::Tensor y = at::empty({weight.size(0)}, weight.options());  // [out]
  matvec_float32(compat::const_data<float>(weight), weight.size(0), weight.size(1), compat::const_data<float>(input),
                 y.data_ptr<float>());
  return y;
}

}  // namespace

at::Tensor project(const at::Tensor& x, const at::Tensor& weight) {
  const bool full_precision = weight.scalar_type() == at::kFloat || weight.scalar_type() == at::kDouble;
  if (x.numel() != x.size(-1) || !x.device().is_cpu() || !full_precision || at::GradMode::is_enabled()) {
    return at::linear(x, weight);
  }
  std::vector<int64_t> shape = x.sizes().vec();
  shape.back() = weight.size(0);
  const bool streamed = weight.scalar_type() == at::kFloat && x.scalar_type() == at::kFloat &&
                        weight.is_contiguous() && kernels::matvec_available();
  return (streamed ? streamed_matvec(weight, x.reshape({-1})) : at::mv(weight, x.reshape({-1}))).view(shape);  // [..., out]
}

at::Tensor linear_with_lora(const at::Tensor& x, const at::Tensor& weight, const LoraAdapter& lora) {
  const at::Tensor base = project(x, weight);
  if (!lora.a.defined()) return base;
  // Dropout only while a graph is recorded, so that evaluation and inference never drop.
  const bool drop = lora.dropout > 0 && at::GradMode::is_enabled();
  const at::Tensor input = drop ? at::dropout(x, lora.dropout, /*train=*/true) : x;
  // A and B may be float32 masters of a 16-bit model (trained_dtype): cast at use.
  const at::ScalarType dtype = x.scalar_type();
  return base + lora.scale * project(project(input, lora.a.to(dtype)), lora.b.to(dtype));
}

QueryKeyValue project_qkv(const Model& model, const LayerWeights& w, const at::Tensor& x, int64_t start) {
  const ModelConfig& c = model.config;
  const int64_t B = x.size(0), T = x.size(1), H = c.num_heads, Hkv = c.num_kv_heads, d = c.head_dim;
  const at::Tensor q = linear_with_lora(x, w.q_proj, w.lora.q_proj).view({B, T, H, d}).transpose(1, 2);    // [B, H, T, d]
  const at::Tensor k = linear_with_lora(x, w.k_proj, w.lora.k_proj).view({B, T, Hkv, d}).transpose(1, 2);  // [B, Hkv, T, d]
  const at::Tensor v = linear_with_lora(x, w.v_proj, w.lora.v_proj).view({B, T, Hkv, d}).transpose(1, 2);  // [B, Hkv, T, d]
  return {rope::apply(q, model.inverse_frequencies, start).contiguous(),
          rope::apply(k, model.inverse_frequencies, start), v};
}

at::Tensor project_output(const LayerWeights& w, const at::Tensor& y) {
  const int64_t B = y.size(0), H = y.size(1), T = y.size(2), d = y.size(3);
  return linear_with_lora(y.transpose(1, 2).reshape({B, T, H * d}), w.o_proj, w.lora.o_proj);  // [B, T, D]
}

at::Tensor mlp_block(const LayerWeights& w, const at::Tensor& x) {
  if (is_float32_decode_row(x)) {
    const at::Tensor gate = linear_with_lora(x, w.gate_proj, w.lora.gate_proj).contiguous();  // [..., I]
    const at::Tensor up = linear_with_lora(x, w.up_proj, w.lora.up_proj).contiguous();        // [..., I]
    at::Tensor activated = at::empty_like(gate);
    kernels::silu_mul_row(compat::const_data<float>(gate), compat::const_data<float>(up), gate.numel(),
                          activated.data_ptr<float>());
    return linear_with_lora(activated, w.down_proj, w.lora.down_proj);
  }
  return linear_with_lora(
      at::silu(linear_with_lora(x, w.gate_proj, w.lora.gate_proj)) * linear_with_lora(x, w.up_proj, w.lora.up_proj),
      w.down_proj, w.lora.down_proj);
}

std::vector<at::Tensor> residual_stream(const Model& model, const at::Tensor& ids, attention::Mode mode) {
  check_mode(model, mode);
  std::vector<at::Tensor> stream;
  const LayerObserver record = [&](int64_t, const at::Tensor& input, const QueryKeyValue&, const at::Tensor&) {
    stream.push_back(input);
  };
  stream.push_back(run_layers(model, ids, 0, attention_in(model, mode), record));
  return stream;
}

}  // namespace lincat
