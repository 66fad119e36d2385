// The decoder's tensors and THE table that names them: checkpoint name, expected shape, where
// the tensor lives in memory. Loading, saving, counting and `lincat info` all walk this table.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "lincat/attention/feature_map.h"
#include "lincat/model/model_config.h"

namespace lincat {

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
};

// Every tensor of the model, in checkpoint order, including a converted model's hybrid tensors
// (model.layers.N.self_attn.feature_map_{q,k}.{weight,bias}, model.layers.N.self_attn.mixing_logit). A tied lm_head is not listed (it aliases
// embed_tokens). `weights.layers` must already have config.num_layers entries.
std::vector<TensorSlot> tensor_slots(const ModelConfig& config, ModelWeights& weights);

std::string shape_string(const std::vector<int64_t>& shape);  // "[64, 32]"

}  // namespace lincat
