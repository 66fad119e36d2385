#include "lincat/model/weights.h"

namespace lincat {

namespace {

void add_hybrid_slots(const ModelConfig& c, const std::string& prefix, attention::HybridLayerWeights& w,
                      std::vector<TensorSlot>& slots) {
  const attention::HybridConfig& h = *c.hybrid;
  const int64_t H = c.num_heads, d = c.head_dim, f = h.feature_dim;
  if (attention::has_projection(h.feature_map)) {
    slots.push_back({prefix + "feature_map_q.weight", {H, d, f}, &w.feature_q});
    slots.push_back({prefix + "feature_map_k.weight", {H, d, f}, &w.feature_k});
  }
  if (attention::has_bias(h.feature_map)) {
    slots.push_back({prefix + "feature_map_q.bias", {H, f}, &w.bias_q});
    slots.push_back({prefix + "feature_map_k.bias", {H, f}, &w.bias_k});
  }
  slots.push_back({prefix + "mixing_logit", {H}, &w.mixing_logit});
}

}  // namespace

std::vector<TensorSlot> tensor_slots(const ModelConfig& c, ModelWeights& w) {
  const int64_t D = c.hidden_size, I = c.intermediate_size, V = c.vocab_size;
  const int64_t q_out = c.num_heads * c.head_dim, kv_out = c.num_kv_heads * c.head_dim;
  std::vector<TensorSlot> slots;
  slots.push_back({"model.embed_tokens.weight", {V, D}, &w.embed_tokens});
  for (int64_t i = 0; i < c.num_layers; ++i) {
    LayerWeights& layer = w.layers.at(static_cast<size_t>(i));
    const std::string p = "model.layers." + std::to_string(i) + ".";
    slots.push_back({p + "input_layernorm.weight", {D}, &layer.input_norm});
    slots.push_back({p + "self_attn.q_proj.weight", {q_out, D}, &layer.q_proj});
    slots.push_back({p + "self_attn.k_proj.weight", {kv_out, D}, &layer.k_proj});
    slots.push_back({p + "self_attn.v_proj.weight", {kv_out, D}, &layer.v_proj});
    slots.push_back({p + "self_attn.o_proj.weight", {D, q_out}, &layer.o_proj});
    slots.push_back({p + "post_attention_layernorm.weight", {D}, &layer.post_attention_norm});
    slots.push_back({p + "mlp.gate_proj.weight", {I, D}, &layer.gate_proj});
    slots.push_back({p + "mlp.up_proj.weight", {I, D}, &layer.up_proj});
    slots.push_back({p + "mlp.down_proj.weight", {D, I}, &layer.down_proj});
    if (c.hybrid) add_hybrid_slots(c, p + "self_attn.", layer.hybrid, slots);
  }
  slots.push_back({"model.norm.weight", {D}, &w.final_norm});
  if (!c.tie_word_embeddings) slots.push_back({"lm_head.weight", {V, D}, &w.lm_head});
  return slots;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

}  // namespace lincat
