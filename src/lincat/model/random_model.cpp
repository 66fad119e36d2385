#include "lincat/model/random_model.h"

#include <filesystem>

#include "lincat/io/hf_config.h"
#include "lincat/io/tensor_io.h"
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

void write_random_model(const std::string& directory, const ModelConfig& config, uint64_t seed) {
  check_model_fits(config, sizeof(float), "float32", directory);
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) throw UserError(directory + ": cannot create directory (" + error.message() + ")");
  torch::manual_seed(seed);
  ModelWeights weights;
  weights.layers.resize(static_cast<size_t>(config.num_layers));
  std::vector<std::pair<std::string, at::Tensor>> named;
  for (const TensorSlot& slot : tensor_slots(config, weights)) {
    at::Tensor t;
    if (slot.shape.size() == 1) {
      t = 1 + 0.1 * torch::randn(slot.shape);  // RMSNorm gains near 1
    } else if (slot.name == "model.embed_tokens.weight") {
      t = torch::randn(slot.shape);            // unit-scale embeddings, as after pre-training
    } else {
      t = torch::randn(slot.shape) / std::sqrt(static_cast<double>(slot.shape[1]));  // O(1) outputs
    }
    named.emplace_back(slot.name, t);
  }
  io::save_checkpoint(directory, named);
  io::write_json_file((std::filesystem::path(directory) / "config.json").string(), io::model_config_to_json(config));
}

}  // namespace lincat
