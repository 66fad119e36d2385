#include "lincat/io/export_common.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "lincat/io/hf_config.h"
#include "lincat/io/safetensors.h"
#include "lincat/io/tensor_io.h"
#include "lincat/model/converted_model.h"
#include "lincat/util/error.h"

namespace lincat::io {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPeftPrefix = "base_model.model.";

// The names of the original model's tensors: the table without the hybrid and LoRA entries.
std::set<std::string> original_names(ModelConfig config) {
  config.hybrid.reset();
  config.lora.reset();
  ModelWeights weights;
  weights.layers.resize(static_cast<size_t>(config.num_layers));
  std::set<std::string> names;
  for (const TensorSlot& slot : tensor_slots(config, weights)) names.insert(slot.name);
  return names;
}

bool is_lora_name(const std::string& name) { return name.find(".lora_") != std::string::npos; }

}  // namespace

ConvertedTensors read_converted_tensors(const std::string& model_dir) {
  ConvertedTensors out;
  out.config = load_model_config((fs::path(model_dir) / "config.json").string());
  if (!out.config.hybrid) {
    throw UserError(model_dir + ": not a converted model (config.json has no \"lincat\" section); export reads the "
                                "output of lincat convert or convert-init");
  }
  const CheckpointFiles checkpoint = CheckpointFiles::open_dir(model_dir);
  ModelWeights weights;
  weights.layers.resize(static_cast<size_t>(out.config.num_layers));
  const std::set<std::string> original = original_names(out.config);
  for (const TensorSlot& slot : tensor_slots(out.config, weights)) {
    if (original.count(slot.name)) continue;
    const auto [file, info] = checkpoint.find(slot.name);
    if (info->shape != slot.shape) {
      throw UserError(file->path() + ": tensor '" + slot.name + "' has shape " + shape_string(info->shape) +
                      ", expected " + shape_string(slot.shape) + " from config.json");
    }
    const at::Tensor stored = tensor_from_file(file, *info);
    check_finite(file->path(), slot.name, stored);
    (is_lora_name(slot.name) ? out.lora : out.hybrid).emplace_back(slot.name, stored);
  }
  return out;
}

std::string peft_tensor_name(const std::string& lincat_name) { return kPeftPrefix + lincat_name; }

std::optional<std::string> lincat_name_of_peft(const std::string& name) {
  const std::string prefix = kPeftPrefix;
  if (name.rfind(prefix, 0) != 0) return std::nullopt;
  return name.substr(prefix.size());
}

std::shared_ptr<Model> assemble_converted(const Model& original, const attention::HybridConfig& hybrid,
                                          attention::Mode default_mode, const std::optional<LoraConfig>& lora,
                                          const std::map<std::string, ImportedTensor>& tensors,
                                          const std::string& source,
                                          const std::function<std::string(const std::string&)>& export_name) {
  std::shared_ptr<Model> model = convert_init(original, hybrid, default_mode);
  model->config.lora = lora;
  const std::set<std::string> original_tensors = original_names(model->config);
  std::vector<std::string> missing;
  std::set<std::string> used;
  for (const TensorSlot& slot : tensor_slots(model->config, model->weights)) {
    if (original_tensors.count(slot.name)) continue;
    const auto found = tensors.find(slot.name);
    if (found == tensors.end()) {
      missing.push_back(export_name(slot.name));
      continue;
    }
    const ImportedTensor& imported = found->second;
    if (imported.tensor.sizes().vec() != slot.shape) {
      throw UserError(imported.origin + " has shape " + shape_string(imported.tensor.sizes().vec()) + ", expected " +
                      shape_string(slot.shape) + " (lincat's " + slot.name + ")");
    }
    if (!imported.tensor.is_floating_point()) throw UserError(imported.origin + " is not a floating-point tensor");
    check_finite(imported.origin, slot.name, imported.tensor);
    *slot.tensor = imported.tensor.to(model->device, slot_dtype(slot, model->dtype));
    used.insert(slot.name);
  }
  std::vector<std::string> unexpected;
  for (const auto& [name, imported] : tensors) {
    if (!used.count(name)) unexpected.push_back(imported.origin);
  }
  if (!missing.empty() || !unexpected.empty()) {
    std::string message = source + ": the tensors do not match the settings";
    auto list = [](const std::vector<std::string>& names) {
      std::string text;
      for (size_t i = 0; i < names.size() && i < 8; ++i) text += (i ? ", " : "") + names[i];
      if (names.size() > 8) text += ", ... (" + std::to_string(names.size()) + " in all)";
      return text;
    };
    if (!missing.empty()) message += "; missing tensors: " + list(missing);
    if (!unexpected.empty()) message += "; unexpected: " + list(unexpected);
    throw UserError(message);
  }
  set_lora_scales(model->config, model->weights);
  return model;
}

nlohmann::json json_number(double value) {
  if (value == std::floor(value) && std::fabs(value) < 1e15) return static_cast<int64_t>(value);
  return value;
}

}  // namespace lincat::io
