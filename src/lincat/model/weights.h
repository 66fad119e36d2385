// The decoder's tensors and THE table that names them: checkpoint name, expected shape, where
// the tensor lives in memory. Loading, saving, counting and `lincat info` all walk this table.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "lincat/attention/feature_map.h"
#include "lincat/model/model_config.h"

namespace lincat {

// A low-rank update of one projection: y = x W^T + scale * (x A^T) B^T. Undefined: no adapter.
struct LoraAdapter {
  at::Tensor a;         // [r, in]
  at::Tensor b;         // [out, r]
  double scale = 0;     // alpha / r
  double dropout = 0;   // on x before A; set only on models being trained
};

// One adapter slot per projection a LoRA target can name.
struct LayerLora {
  LoraAdapter q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj;
};

struct LayerWeights {
  at::Tensor input_norm;           // [D]
  at::Tensor q_proj;               // [H*d, D]   (y = x W^T)
  at::Tensor k_proj;               // [Hkv*d, D]
  at::Tensor v_proj;               // [Hkv*d, D]
  at::Tensor o_proj;               // [D, H*d]
  at::Tensor post_attention_norm;  // [D]
  at::Tensor gate_proj;            // [I, D]
  at::Tensor up_proj;              // [I, D]
  at::Tensor down_proj;            // [D, I]
  attention::HybridLayerWeights hybrid;  // converted models only: feature maps and mixing logits
  LayerLora lora;                        // converted models with config.lora only
};

struct ModelWeights {
  at::Tensor embed_tokens;  // [V, D]
  std::vector<LayerWeights> layers;
  at::Tensor final_norm;    // [D]
  at::Tensor lm_head;       // [V, D]; the same tensor as embed_tokens when tied
};

struct TensorSlot {
  std::string name;            // Hugging Face state_dict name
  std::vector<int64_t> shape;  // expected shape
  at::Tensor* tensor;          // where it lives
  bool trained = false;        // added by the conversion and trained: feature maps, mixing logits, LoRA
};

// Every tensor of the model, in checkpoint order, including a converted model's hybrid tensors
// (model.layers.N.self_attn.feature_map_{q,k}.{weight,bias}, model.layers.N.self_attn.mixing_logit)
// and LoRA adapters (model.layers.N.{self_attn,mlp}.<target>.lora_{A,B}.weight). A tied lm_head is not listed (it aliases
// embed_tokens). `weights.layers` must already have config.num_layers entries.
std::vector<TensorSlot> tensor_slots(const ModelConfig& config, ModelWeights& weights);

// The base weight [out, in] and the adapter of projection `target` in `layer`.
at::Tensor& projection_weight(LayerWeights& layer, const std::string& target);
LoraAdapter& lora_adapter(LayerWeights& layer, const std::string& target);
// Sets every adapter's scale to config.lora's alpha / rank (after loading the tensors).
void set_lora_scales(const ModelConfig& config, ModelWeights& weights);

std::string shape_string(const std::vector<int64_t>& shape);  // "[64, 32]"

}  // namespace lincat
