// Taking a converted model to other tools and back (docs/FORMAT.md, "Exports"):
//   peft     Hugging Face PEFT's LoRA adapter (adapter_config.json, adapter_model.safetensors)
//            plus lincat_attention.safetensors with the feature maps and mixing logits;
//   lolcats  one safetensors file with the tensors under the LoLCATs code base's names, plus a
//            YAML with its matching attention (and LoRA) settings;
//   merged   the LoRA folded into the weights, a lincat model directory in the source dtype.
// Each import rebuilds the converted model from the original model and the export, bit for bit.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "lincat/model/model.h"

namespace lincat::io {

enum class ExportFormat { Peft, Lolcats, Merged };

ExportFormat parse_export_format(const std::string& name);  // UserError naming the choices
std::string export_format_name(ExportFormat format);

struct ExportOptions {
  // PEFT's base_model_name_or_path (a Hugging Face id or path of the original model); empty: the
  // converted model's directory, which holds the same base weights.
  std::string base_model;
};

// Reads the converted model in `model_dir` and writes it as `format` into `out_dir` (created).
// Tensors keep their stored dtype (merged: the LoRA is folded in float32, then rounded once to
// the source dtype). UserError naming the reason when the format cannot hold the model (not
// converted; peft without LoRA adapters; lolcats with a layout, sinks or feature map LoLCATs
// lacks). Returns the files written.
std::vector<std::string> export_model(const std::string& model_dir, ExportFormat format, const std::string& out_dir,
                                      const ExportOptions& options = {});

// `original` (not converted) plus a PEFT export directory -> the converted model.
std::shared_ptr<Model> import_peft(const Model& original, const std::string& export_dir);
// `original` plus a LoLCATs export file (its settings from the YAML of the same name) -> the
// converted model.
std::shared_ptr<Model> import_lolcats(const Model& original, const std::string& tensors_file);

// The names of a PEFT export's files.
inline constexpr const char* kPeftConfigFile = "adapter_config.json";
inline constexpr const char* kPeftWeightsFile = "adapter_model.safetensors";
inline constexpr const char* kPeftAttentionFile = "lincat_attention.safetensors";

}  // namespace lincat::io
