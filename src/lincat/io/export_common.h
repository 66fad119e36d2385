// What the export formats share (export_formats.h): a converted model's own tensors as stored,
// and the rebuilding of a converted model from an original and imported tensors.
#pragma once
#include <torch/torch.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "lincat/model/model.h"

namespace lincat::io {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// The tensors a converted model adds to its original, in table order and stored dtype.
struct ConvertedTensors {
  ModelConfig config;
  NamedTensors hybrid;  // feature maps, biases, mixing logits (lincat names)
  NamedTensors lora;    // lora_A / lora_B (lincat names); empty without config.lora
};

// UserError naming the directory when it is not a converted model, or a tensor is missing, has
// the wrong shape or holds NaN/Inf.
ConvertedTensors read_converted_tensors(const std::string& model_dir);

// PEFT's name of a LoRA tensor: the Hugging Face module path under PeftModel's prefix.
std::string peft_tensor_name(const std::string& lincat_name);  // "base_model.model." + name
// The inverse; nullopt when `name` lacks the prefix.
std::optional<std::string> lincat_name_of_peft(const std::string& name);

// A tensor to import: its lincat name, the tensor (already in lincat's shape) and where it came
// from ("FILE: tensor 'NAME'"), for messages.
struct ImportedTensor {
  at::Tensor tensor;
  std::string origin;
};

// `original` converted with `hybrid` and `lora`, every added tensor taken from `tensors` (keyed
// by lincat name) in the original's dtype and device. UserError for a converted `original`, a
// tensor missing (named as the export would name it, through `export_name`), of the wrong shape
// or not finite, or left over.
std::shared_ptr<Model> assemble_converted(const Model& original, const attention::HybridConfig& hybrid,
                                          attention::Mode default_mode, const std::optional<LoraConfig>& lora,
                                          const std::map<std::string, ImportedTensor>& tensors,
                                          const std::string& source,
                                          const std::function<std::string(const std::string&)>& export_name);

// The writers behind export_model, one per format (export_peft.cpp, export_lolcats.cpp,
// export_merged.cpp).
struct ExportOptions;
std::vector<std::string> export_peft(const std::string& model_dir, const std::string& out_dir,
                                     const ExportOptions& options);
std::vector<std::string> export_lolcats(const std::string& model_dir, const std::string& out_dir,
                                        const ExportOptions& options);
std::vector<std::string> export_merged(const std::string& model_dir, const std::string& out_dir);

// 16 -> 16 (an integer in JSON and YAML), 0.5 -> 0.5: how PEFT and LoLCATs write lora_alpha.
nlohmann::json json_number(double value);

}  // namespace lincat::io
