#include "lincat/model/layers.h"

#include "lincat/model/decoder.h"
#include "lincat/model/rope.h"

namespace lincat {

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  const at::Tensor x32 = x.to(at::kFloat);
  const at::Tensor normalised = x32 * at::rsqrt(x32.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return weight * normalised.to(x.scalar_type());
}

QueryKeyValue project_qkv(const Model& model, const LayerWeights& w, const at::Tensor& x, int64_t start) {
  const ModelConfig& c = model.config;
  const int64_t B = x.size(0), T = x.size(1), H = c.num_heads, Hkv = c.num_kv_heads, d = c.head_dim;
  const at::Tensor q = at::linear(x, w.q_proj).view({B, T, H, d}).transpose(1, 2);    // [B, H, T, d]
  const at::Tensor k = at::linear(x, w.k_proj).view({B, T, Hkv, d}).transpose(1, 2);  // [B, Hkv, T, d]
  const at::Tensor v = at::linear(x, w.v_proj).view({B, T, Hkv, d}).transpose(1, 2);  // [B, Hkv, T, d]
  return {rope::apply(q, model.inverse_frequencies, start).contiguous(),
          rope::apply(k, model.inverse_frequencies, start), v};
}

at::Tensor project_output(const LayerWeights& w, const at::Tensor& y) {
  const int64_t B = y.size(0), H = y.size(1), T = y.size(2), d = y.size(3);
  return at::linear(y.transpose(1, 2).reshape({B, T, H * d}), w.o_proj);  // [B, T, D]
}

at::Tensor mlp_block(const LayerWeights& w, const at::Tensor& x) {
  return at::linear(at::silu(at::linear(x, w.gate_proj)) * at::linear(x, w.up_proj), w.down_proj);
}

std::vector<at::Tensor> residual_stream(const Model& model, const at::Tensor& ids, attention::Mode mode) {
  std::vector<at::Tensor> stream;
  forward_layers(model, ids, mode, nullptr, &stream);
  return stream;
}

}  // namespace lincat
