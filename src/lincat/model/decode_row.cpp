#include "lincat/model/decode_row.h"

#include <vector>

#include "lincat/kernels/matvec_cpu.h"
#include "lincat/kernels/row_ops_cpu.h"
#include "lincat/model/decoder.h"
#include "lincat/model/layers.h"
#include "lincat/util/compat.h"

namespace lincat {
namespace {

bool is_float32_cpu(const at::Tensor& t, int64_t dims) {
  return t.defined() && t.dim() == dims && t.scalar_type() == at::kFloat && t.device().is_cpu() && t.is_contiguous();
}

bool adapter_fits(const LoraAdapter& lora) {
  return !lora.a.defined() || (is_float32_cpu(lora.a, 2) && is_float32_cpu(lora.b, 2));
}

const float* data(const at::Tensor& t) { return compat::const_data<float>(t); }

// y [out] = x W^T plus the adapter's update, as linear_with_lora computes it for one row.
void project_row(const at::Tensor& weight, const LoraAdapter& lora, const float* x, float* y) {
  matvec_float32(data(weight), weight.size(0), weight.size(1), x, y);
  if (!lora.a.defined()) return;
  const int64_t rank = lora.a.size(0), out = weight.size(0);
  std::vector<float> low(static_cast<size_t>(rank)), update(static_cast<size_t>(out));
  matvec_float32(data(lora.a), rank, lora.a.size(1), x, low.data());
  matvec_float32(data(lora.b), out, rank, low.data(), update.data());
  kernels::add_scaled_row(update.data(), static_cast<float>(lora.scale), out, y);
}

at::Tensor empty_heads(int64_t heads, int64_t d) { return at::empty({1, heads, 1, d}, at::kFloat); }

}  // namespace

bool decode_row_applies(const Model& model, const at::Tensor& ids, const DecodeState* state) {
  if (!state || at::GradMode::is_enabled() || !kernels::matvec_available()) return false;
  if (ids.dim() != 2 || ids.numel() != 1 || ids.scalar_type() != at::kLong || !ids.device().is_cpu()) return false;
  if (!model.device.is_cpu() || model.dtype != at::kFloat) return false;
  const ModelWeights& w = model.weights;
  if (!is_float32_cpu(w.embed_tokens, 2) || !is_float32_cpu(w.final_norm, 1) || !is_float32_cpu(w.lm_head, 2) ||
      !is_float32_cpu(model.inverse_frequencies, 1)) {
    return false;
  }
  for (const LayerWeights& layer : w.layers) {
    for (const at::Tensor* norm : {&layer.input_norm, &layer.post_attention_norm}) {
      if (!is_float32_cpu(*norm, 1)) return false;
    }
    const LayerLora& l = layer.lora;
    const std::pair<const at::Tensor*, const LoraAdapter*> projections[] = {
        {&layer.q_proj, &l.q_proj}, {&layer.k_proj, &l.k_proj},       {&layer.v_proj, &l.v_proj},
        {&layer.o_proj, &l.o_proj}, {&layer.gate_proj, &l.gate_proj}, {&layer.up_proj, &l.up_proj},
        {&layer.down_proj, &l.down_proj}};
    for (const auto& [weight, lora] : projections) {
      if (!is_float32_cpu(*weight, 2) || !adapter_fits(*lora)) return false;
    }
  }
  return true;
}

at::Tensor decode_row(const Model& model, int64_t id, DecodeState& state) {
  const ModelConfig& c = model.config;
  const ModelWeights& w = model.weights;
  check_token_ids(model, {id}, "decode step");
  const int64_t D = c.hidden_size, H = c.num_heads, Hkv = c.num_kv_heads, d = c.head_dim;
  const int64_t I = c.intermediate_size, position = state.position;
  const auto eps = static_cast<float>(c.rms_norm_eps);
  const float* inverse_frequencies = data(model.inverse_frequencies);  // [d/2]

  std::vector<float> hidden(data(w.embed_tokens) + id * D, data(w.embed_tokens) + (id + 1) * D);  // [D]
  std::vector<float> normed(D), q(H * d), k(Hkv * d), out(D), gate(I), up(I);
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const LayerWeights& layer = w.layers[static_cast<size_t>(i)];
    kernels::rms_norm_row(hidden.data(), data(layer.input_norm), eps, D, normed.data());
    project_row(layer.q_proj, layer.lora.q_proj, normed.data(), q.data());  // [H*d]
    project_row(layer.k_proj, layer.lora.k_proj, normed.data(), k.data());  // [Hkv*d]
    // Fresh tensors per layer: a cache or state may keep what it is given.
    QueryKeyValue qkv{empty_heads(H, d), empty_heads(Hkv, d), empty_heads(Hkv, d)};
    project_row(layer.v_proj, layer.lora.v_proj, normed.data(), qkv.v.data_ptr<float>());
    kernels::rope_rows(q.data(), inverse_frequencies, position, H, d, qkv.q.data_ptr<float>());
    kernels::rope_rows(k.data(), inverse_frequencies, position, Hkv, d, qkv.k.data_ptr<float>());
    const at::Tensor heads =
        layer_attention(model, i, qkv, position, state.mode, nullptr, &state.layers[static_cast<size_t>(i)])
            .contiguous();  // [1, H, 1, d]
    project_row(layer.o_proj, layer.lora.o_proj, data(heads), out.data());  // [D]
    kernels::add_scaled_row(out.data(), 1.0f, D, hidden.data());

    kernels::rms_norm_row(hidden.data(), data(layer.post_attention_norm), eps, D, normed.data());
    project_row(layer.gate_proj, layer.lora.gate_proj, normed.data(), gate.data());  // [I]
    project_row(layer.up_proj, layer.lora.up_proj, normed.data(), up.data());        // [I]
    kernels::silu_mul_row(gate.data(), up.data(), I, gate.data());
    project_row(layer.down_proj, layer.lora.down_proj, gate.data(), out.data());  // [D]
    kernels::add_scaled_row(out.data(), 1.0f, D, hidden.data());
  }
  kernels::rms_norm_row(hidden.data(), data(w.final_norm), eps, D, normed.data());
  at::Tensor logits = at::empty({1, 1, w.lm_head.size(0)}, at::kFloat);  // [1, 1, V]
  matvec_float32(data(w.lm_head), w.lm_head.size(0), D, normed.data(), logits.data_ptr<float>());
  state.position += 1;
  return logits;
}

}  // namespace lincat
