#include "lincat/model/random_model.h"

#include <filesystem>

#include "lincat/io/hf_config.h"
#include "lincat/io/tensor_io.h"
#include "lincat/io/safetensors.h"
#include "lincat/model/model.h"
#include "lincat/model/model_memory.h"
#include "lincat/model/weights.h"
#include "lincat/util/error.h"

namespace lincat {

ModelConfig llama_config_of_size(int64_t parameters) {
  ModelConfig c;
  c.architecture = "LlamaForCausalLM";
  c.vocab_size = 32000;
  c.head_dim = 64;
  c.max_position_embeddings = 4096;
  c.rms_norm_eps = 1e-5;
  c.bos_token_id = 1;
  c.eos_token_ids = {2};
  // Grow width and depth together until the parameter budget is reached.
  for (int64_t heads = 4;; heads += 4) {
    c.num_heads = heads;
    c.num_kv_heads = heads / 4;
    c.hidden_size = heads * c.head_dim;
    c.intermediate_size = (c.hidden_size * 8 / 3 + 63) / 64 * 64;
    c.num_layers = std::max<int64_t>(2, heads);
    if (c.parameter_count() >= parameters || heads >= 64) break;
  }
  while (c.num_layers > 2 && c.parameter_count() > parameters) --c.num_layers;
  return c;
}

ModelConfig named_model_config(const std::string& shape) {
  ModelConfig c;
  c.architecture = "LlamaForCausalLM";
  c.rms_norm_eps = 1e-5;
  c.num_heads = 32;
  c.num_kv_heads = 8;
  c.torch_dtype = "bfloat16";
  if (shape == "llama-3.2-1b" || shape == "llama-3-8b") {
    c.vocab_size = 128256;
    c.rope_theta = 500000;
    c.bos_token_id = 128000;
    c.eos_token_ids = {128001};
    if (shape == "llama-3.2-1b") {
      c.hidden_size = 2048;
      c.intermediate_size = 8192;
      c.num_layers = 16;
      c.head_dim = 64;
      c.max_position_embeddings = 131072;
      c.tie_word_embeddings = true;
      c.rope_scaling = RopeScaling{"llama3", 32.0, 1.0, 4.0, 8192};
    } else {
      c.hidden_size = 4096;
      c.intermediate_size = 14336;
      c.num_layers = 32;
      c.head_dim = 128;
      c.max_position_embeddings = 8192;
    }
  } else if (shape == "mistral-7b") {
    c.architecture = "MistralForCausalLM";
    c.vocab_size = 32000;
    c.hidden_size = 4096;
    c.intermediate_size = 14336;
    c.num_layers = 32;
    c.head_dim = 128;
    c.max_position_embeddings = 32768;
    c.rope_theta = 10000;
    c.sliding_window = 4096;
    c.bos_token_id = 1;
    c.eos_token_ids = {2};
  } else {
    std::string names;
    for (const std::string& name : named_model_shapes()) names += (names.empty() ? "" : ", ") + name;
    throw UserError("unknown shape '" + shape + "' (valid: " + names + ")");
  }
  return c;
}

const std::vector<std::string>& named_model_shapes() {
  static const std::vector<std::string> names = {"llama-3.2-1b", "llama-3-8b", "mistral-7b"};
  return names;
}

void write_random_model(const std::string& directory, const ModelConfig& config, uint64_t seed,
                        const RandomModelOptions& options) {
  check_model_fits(config, at::elementSize(options.dtype), dtype_name(options.dtype), directory);
  torch::manual_seed(seed);
  ModelWeights weights;
  weights.layers.resize(static_cast<size_t>(config.num_layers));
  const std::vector<TensorSlot> slots = tensor_slots(config, weights);
  std::vector<std::string> names;
  std::vector<uint64_t> nbytes;
  for (const TensorSlot& slot : slots) {
    names.push_back(slot.name);
    nbytes.push_back(static_cast<uint64_t>(c10::multiply_integers(slot.shape)) * at::elementSize(options.dtype));
  }
  // Shards are made in slot order, so a seed gives the same weights whatever the shard size.
  io::write_checkpoint_by_shard(directory, names, nbytes, options.max_shard_bytes,
                                [&](const std::string& path, const std::vector<size_t>& members) {
    std::vector<std::pair<std::string, at::Tensor>> named;
    for (const size_t i : members) {
      const TensorSlot& slot = slots[i];
      at::Tensor t;
      if (slot.shape.size() == 1) {
        t = 1 + 0.1 * torch::randn(slot.shape);  // RMSNorm gains near 1
      } else if (slot.name == "model.embed_tokens.weight") {
        t = torch::randn(slot.shape);            // unit-scale embeddings, as after pre-training
      } else {
        t = torch::randn(slot.shape) / std::sqrt(static_cast<double>(slot.shape[1]));  // O(1) outputs
      }
      named.emplace_back(slot.name, t.to(options.dtype));
    }
    io::save_safetensors(path, named, {{"format", "pt"}});
  });
  ModelConfig written = config;
  written.torch_dtype = dtype_name(options.dtype);
  io::write_json_file((std::filesystem::path(directory) / "config.json").string(), io::model_config_to_json(written));
}

}  // namespace lincat
