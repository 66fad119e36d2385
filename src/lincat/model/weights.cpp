#include "lincat/model/weights.h"

#include "lincat/util/error.h"

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

std::string projection_prefix(const std::string& target) {
  return target == "gate_proj" || target == "up_proj" || target == "down_proj" ? "mlp." : "self_attn.";
}

// [out, in] of the projection `target`.
std::vector<int64_t> projection_shape(const ModelConfig& c, const std::string& target) {
  const int64_t D = c.hidden_size, I = c.intermediate_size;
  const int64_t q_out = c.num_heads * c.head_dim, kv_out = c.num_kv_heads * c.head_dim;
  if (target == "q_proj") return {q_out, D};
  if (target == "k_proj" || target == "v_proj") return {kv_out, D};
  if (target == "o_proj") return {D, q_out};
  if (target == "down_proj") return {D, I};
  return {I, D};  // gate_proj, up_proj
}

void add_lora_slots(const ModelConfig& c, const std::string& prefix, LayerWeights& layer,
                    std::vector<TensorSlot>& slots) {
  const int64_t r = c.lora->rank;
  for (const std::string& target : c.lora->targets) {
    const std::vector<int64_t> shape = projection_shape(c, target);  // [out, in]
    LoraAdapter& adapter = lora_adapter(layer, target);
    const std::string name = prefix + projection_prefix(target) + target;
    slots.push_back({name + ".lora_A.weight", {r, shape[1]}, &adapter.a});
    slots.push_back({name + ".lora_B.weight", {shape[0], r}, &adapter.b});
  }
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
    if (c.lora) add_lora_slots(c, p, layer, slots);
  }
  slots.push_back({"model.norm.weight", {D}, &w.final_norm});
  if (!c.tie_word_embeddings) slots.push_back({"lm_head.weight", {V, D}, &w.lm_head});
  return slots;
}

at::Tensor& projection_weight(LayerWeights& layer, const std::string& target) {
  if (target == "q_proj") return layer.q_proj;
  if (target == "k_proj") return layer.k_proj;
  if (target == "v_proj") return layer.v_proj;
  if (target == "o_proj") return layer.o_proj;
  if (target == "gate_proj") return layer.gate_proj;
  if (target == "up_proj") return layer.up_proj;
  if (target == "down_proj") return layer.down_proj;
  throw UserError("unknown LoRA target '" + target + "'");
}

LoraAdapter& lora_adapter(LayerWeights& layer, const std::string& target) {
  LayerLora& l = layer.lora;
  if (target == "q_proj") return l.q_proj;
  if (target == "k_proj") return l.k_proj;
  if (target == "v_proj") return l.v_proj;
  if (target == "o_proj") return l.o_proj;
  if (target == "gate_proj") return l.gate_proj;
  if (target == "up_proj") return l.up_proj;
  if (target == "down_proj") return l.down_proj;
  throw UserError("unknown LoRA target '" + target + "'");
}

void set_lora_scales(const ModelConfig& config, ModelWeights& weights) {
  if (!config.lora) return;
  for (LayerWeights& layer : weights.layers) {
    for (const std::string& target : config.lora->targets) lora_adapter(layer, target).scale = config.lora->scale();
  }
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

}  // namespace lincat
