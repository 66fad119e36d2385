#include "lincat/model/weights.h"

#include "lincat/util/error.h"

namespace lincat {

namespace {

void add_hybrid_slots(const ModelConfig& c, const std::string& prefix, attention::HybridLayerWeights& w,
                      std::vector<TensorSlot>& slots) {
  const attention::HybridConfig& h = *c.hybrid;
  const int64_t H = c.num_heads, d = c.head_dim, f = h.feature_dim;
  if (attention::has_projection(h.feature_map)) {
    slots.push_back({prefix + "feature_map_q.weight", {H, d, f}, &w.feature_q, true});
    slots.push_back({prefix + "feature_map_k.weight", {H, d, f}, &w.feature_k, true});
  }
  if (attention::has_bias(h.feature_map)) {
    slots.push_back({prefix + "feature_map_q.bias", {H, f}, &w.bias_q, true});
    slots.push_back({prefix + "feature_map_k.bias", {H, f}, &w.bias_k, true});
  }
  slots.push_back({prefix + "mixing_logit", {H}, &w.mixing_logit, true});
}

// The projections LoRA can target, once: Hugging Face name, module, base weight, adapter and
// [out, in] as functions of the config.
struct Projection {
  std::string name;
  std::string module;  // "self_attn." or "mlp."
  at::Tensor LayerWeights::*weight;
  LoraAdapter LayerLora::*adapter;
  int64_t (*out)(const ModelConfig&);
  int64_t (*in)(const ModelConfig&);
};

int64_t hidden(const ModelConfig& c) { return c.hidden_size; }
int64_t intermediate(const ModelConfig& c) { return c.intermediate_size; }
int64_t query_width(const ModelConfig& c) { return c.num_heads * c.head_dim; }
int64_t key_value_width(const ModelConfig& c) { return c.num_kv_heads * c.head_dim; }

const std::vector<Projection>& projections() {
  static const std::vector<Projection> table = {
      {"q_proj", "self_attn.", &LayerWeights::q_proj, &LayerLora::q_proj, query_width, hidden},
      {"k_proj", "self_attn.", &LayerWeights::k_proj, &LayerLora::k_proj, key_value_width, hidden},
      {"v_proj", "self_attn.", &LayerWeights::v_proj, &LayerLora::v_proj, key_value_width, hidden},
      {"o_proj", "self_attn.", &LayerWeights::o_proj, &LayerLora::o_proj, hidden, query_width},
      {"gate_proj", "mlp.", &LayerWeights::gate_proj, &LayerLora::gate_proj, intermediate, hidden},
      {"up_proj", "mlp.", &LayerWeights::up_proj, &LayerLora::up_proj, intermediate, hidden},
      {"down_proj", "mlp.", &LayerWeights::down_proj, &LayerLora::down_proj, hidden, intermediate}};
  return table;
}

const Projection& projection(const std::string& target) {
  for (const Projection& p : projections()) {
    if (p.name == target) return p;
  }
  throw UserError("unknown LoRA target '" + target + "'");
}

void add_lora_slots(const ModelConfig& c, const std::string& prefix, LayerWeights& layer,
                    std::vector<TensorSlot>& slots) {
  const int64_t r = c.lora->rank;
  for (const std::string& target : c.lora->targets) {
    const Projection& p = projection(target);
    LoraAdapter& adapter = layer.lora.*p.adapter;
    const std::string name = prefix + p.module + target;
    slots.push_back({name + ".lora_A.weight", {r, p.in(c)}, &adapter.a, true});
    slots.push_back({name + ".lora_B.weight", {p.out(c), r}, &adapter.b, true});
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
  return layer.*projection(target).weight;
}

LoraAdapter& lora_adapter(LayerWeights& layer, const std::string& target) {
  return layer.lora.*projection(target).adapter;
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
