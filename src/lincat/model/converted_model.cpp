#include "lincat/model/converted_model.h"

#include <unistd.h>

#include <filesystem>

#include "lincat/attention/feature_map.h"
#include "lincat/io/hf_config.h"
#include "lincat/io/tensor_io.h"
#include "lincat/io/tokenizer.h"
#include "lincat/util/atomic_file.h"
#include "lincat/util/error.h"

namespace lincat {
namespace {

namespace fs = std::filesystem;

void copy_file_atomically(const fs::path& from, const fs::path& to) {
  const std::string temporary = to.string() + ".tmp." + std::to_string(::getpid());
  std::error_code error;
  fs::copy_file(from, temporary, fs::copy_options::overwrite_existing, error);
  if (!error) fs::rename(temporary, to, error);
  if (error) {
    fs::remove(temporary);
    throw UserError(to.string() + ": cannot write (" + error.message() + ")");
  }
}

}  // namespace

std::shared_ptr<Model> convert_init(const Model& original, const attention::HybridConfig& hybrid,
                                    attention::Mode default_mode) {
  if (original.config.hybrid) throw UserError(original.directory + ": the model is already converted");
  attention::validate(hybrid);
  auto converted = std::make_shared<Model>(original);
  converted->config.hybrid = hybrid;
  converted->config.default_mode = default_mode;
  const auto options = at::TensorOptions().dtype(trained_dtype(original.dtype)).device(original.device);
  for (LayerWeights& layer : converted->weights.layers) {
    layer.hybrid = attention::make_identity_weights(original.config.num_heads, original.config.head_dim, hybrid, options);
  }
  return converted;
}

void save_model(const Model& model, const std::string& directory) {
  std::error_code error;
  fs::create_directories(directory, error);
  if (error) throw UserError(directory + ": cannot create directory (" + error.message() + ")");
  if (fs::equivalent(directory, model.directory, error)) {
    throw UserError(directory + ": refusing to overwrite the model being read; choose another output directory");
  }

  // The pretrained weights go back in the dtype they came in (a bfloat16 model stays bfloat16);
  // the trained tensors (feature maps, mixing logits, LoRA) keep their precision (float32 masters
  // of a 16-bit model: trained_dtype).
  const at::ScalarType source = source_dtype(model);
  ModelWeights weights = model.weights;  // shares storage; tensor_slots needs a mutable table
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const TensorSlot& slot : tensor_slots(model.config, weights)) {
    tensors.emplace_back(slot.name, slot.trained ? *slot.tensor : slot.tensor->to(source));
  }
  io::save_checkpoint(directory, tensors);

  nlohmann::json config = io::read_json_file((fs::path(model.directory) / "config.json").string());
  config.erase("lincat");
  if (model.config.hybrid) config["lincat"] = io::lincat_section(model.config);
  config["torch_dtype"] = dtype_name(source);
  io::write_json_file((fs::path(directory) / "config.json").string(), config);

  const std::string tokenizer = io::Tokenizer::find_in(model.directory);
  if (!tokenizer.empty()) io::copy_tokenizer(tokenizer, directory);
}

}  // namespace lincat
