// The hyper-parameters of a Llama/Mistral decoder, as read from a Hugging Face config.json.
// No libtorch here: parsing and validation are cheap to build, test and fuzz.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lincat/attention/modes.h"

namespace lincat {

// RoPE frequency scaling. kind "llama3" (Llama 3.1+) and "linear" are implemented; others refused.
struct RopeScaling {
  std::string kind;
  double factor = 1.0;
  double low_freq_factor = 1.0;                 // llama3 only
  double high_freq_factor = 4.0;                // llama3 only
  int64_t original_max_position_embeddings = 0; // llama3 only
};

// LoRA adapters on named projections: W x + (alpha / rank) B A x. Converted models carry them
// after stage-2 fine-tuning until `lincat merge` folds them into the base weights.
struct LoraConfig {
  int64_t rank = 8;
  double alpha = 16;
  std::vector<std::string> targets;  // among q_proj k_proj v_proj o_proj gate_proj up_proj down_proj

  double scale() const { return alpha / static_cast<double>(rank); }
};

// The projections LoRA can target, by their Hugging Face names: q_proj ... down_proj.
const std::vector<std::string>& lora_target_names();
// Throws UserError naming `context` unless the targets are distinct names of lora_target_names().
void check_lora_targets(const std::vector<std::string>& targets, const std::string& context);

struct ModelConfig {
  std::string architecture;  // "LlamaForCausalLM" or "MistralForCausalLM"
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;         // D
  int64_t intermediate_size = 0;   // I
  int64_t num_layers = 0;          // L
  int64_t num_heads = 0;           // H
  int64_t num_kv_heads = 0;        // Hkv (grouped-query attention when < H)
  int64_t head_dim = 0;            // d
  int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  std::optional<RopeScaling> rope_scaling;
  std::optional<int64_t> sliding_window;  // keys i-w < j <= i (transformers 4.45 eager rule)
  bool tie_word_embeddings = false;
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;     // Llama 3 lists several
  std::string torch_dtype;                // informational: the dtype the checkpoint was saved in

  // Converted models only (the "lincat" section of config.json): the hybrid attention every
  // layer uses, and the mode commands run in unless told otherwise.
  std::optional<attention::HybridConfig> hybrid;
  attention::Mode default_mode = attention::Mode::Softmax;
  std::optional<LoraConfig> lora;  // converted models with unmerged adapters

  int64_t kv_groups() const { return num_heads / num_kv_heads; }
  int64_t parameter_count() const;  // of the tensors the decoder declares
};

}  // namespace lincat
