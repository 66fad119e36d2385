// The peft export: PEFT's LoRA adapter files plus lincat_attention.safetensors (PEFT has no place
// for feature maps and mixing logits), and its import.
#include <filesystem>

#include "lincat/io/export_common.h"
#include "lincat/io/export_formats.h"
#include "lincat/io/hf_config.h"
#include "lincat/io/safetensors.h"
#include "lincat/io/tensor_io.h"
#include "lincat/util/atomic_file.h"
#include "lincat/util/error.h"

namespace lincat::io {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kSectionKey = "lincat";  // lincat_attention.safetensors' metadata key

json adapter_config(const LoraConfig& lora, const std::string& base_model) {
  // The keys PEFT's LoraConfig writes for a plain LoRA; PEFT scales by lora_alpha / r as lincat.
  return {{"peft_type", "LORA"},
          {"task_type", "CAUSAL_LM"},
          {"base_model_name_or_path", base_model},
          {"revision", nullptr},
          {"r", lora.rank},
          {"lora_alpha", json_number(lora.alpha)},
          {"lora_dropout", 0.0},
          {"target_modules", lora.targets},
          {"bias", "none"},
          {"fan_in_fan_out", false},
          {"inference_mode", true},
          {"init_lora_weights", true},
          {"modules_to_save", nullptr},
          {"layers_to_transform", nullptr},
          {"layers_pattern", nullptr},
          {"rank_pattern", json::object()},
          {"alpha_pattern", json::object()},
          {"use_rslora", false},
          {"use_dora", false}};
}

std::string readme(const ModelConfig& config, const std::string& base_model) {
  return "# PEFT export of a lincat conversion\n\n"
         "- `adapter_config.json`, `adapter_model.safetensors`: the LoRA adapters as Hugging Face PEFT saves\n"
         "  them (`PeftModel.from_pretrained(base, THIS_DIR)`), base model `" + base_model + "`.\n"
         "- `lincat_attention.safetensors`: the hybrid attention's feature maps and mixing logits under\n"
         "  lincat's names (docs/FORMAT.md), with the `lincat` section of config.json in its metadata.\n"
         "  PEFT has no place for them: transformers' Llama/Mistral attention ignores them, so the PEFT\n"
         "  model alone runs softmax attention. LoLCATs' code base takes `lincat export --format lolcats`.\n\n"
         "Back into lincat: `lincat convert-init ORIGINAL_MODEL --from-peft THIS_DIR --out DIR`.\n"
         "Attention: window " + std::to_string(config.hybrid->window) + ", layout " +
         attention::layout_name(config.hybrid->layout) + ", feature map " +
         attention::feature_map_name(config.hybrid->feature_map) + " (f = " +
         std::to_string(config.hybrid->feature_dim) + ").\n";
}

// A field of adapter_config.json that must be absent or equal to what lincat's LoRA is.
void require_plain(const json& config, const std::string& path, const char* key, const json& plain,
                   const std::string& why) {
  if (config.contains(key) && !config.at(key).is_null() && config.at(key) != plain) {
    throw UserError(path + ": field '" + key + "' is " + config.at(key).dump() + "; lincat imports " + why);
  }
}

LoraConfig read_adapter_config(const std::string& path) {
  const json config = read_json_file(path);
  if (!config.is_object()) throw UserError(path + ": expected a JSON object");
  if (config.value("peft_type", std::string()) != "LORA") {
    throw UserError(path + ": field 'peft_type' must be \"LORA\" (lincat imports LoRA adapters only)");
  }
  require_plain(config, path, "use_rslora", false, "plain LoRA (scale alpha / r)");
  require_plain(config, path, "use_dora", false, "plain LoRA, not DoRA");
  require_plain(config, path, "bias", "none", "adapters without biases");
  require_plain(config, path, "fan_in_fan_out", false, "weights stored [out, in]");
  require_plain(config, path, "rank_pattern", json::object(), "one rank for every module");
  require_plain(config, path, "alpha_pattern", json::object(), "one alpha for every module");
  require_plain(config, path, "layers_to_transform", nullptr, "adapters on every layer");
  LoraConfig lora;
  const json& r = config.contains("r") ? config.at("r") : json();
  if (!r.is_number_integer() || r.get<int64_t>() < 1) throw UserError(path + ": field 'r' must be a positive integer");
  lora.rank = r.get<int64_t>();
  const json& alpha = config.contains("lora_alpha") ? config.at("lora_alpha") : json();
  if (!alpha.is_number() || !(alpha.get<double>() > 0)) throw UserError(path + ": field 'lora_alpha' must be a positive number");
  lora.alpha = alpha.get<double>();
  const json& targets = config.contains("target_modules") ? config.at("target_modules") : json();
  if (!targets.is_array()) {
    throw UserError(path + ": field 'target_modules' must be a list of projection names (a regular expression is not supported)");
  }
  for (const json& target : targets) {
    if (!target.is_string()) throw UserError(path + ": field 'target_modules' must be a list of projection names");
    lora.targets.push_back(target.get<std::string>());
  }
  check_lora_targets(lora.targets, path);
  return lora;
}

}  // namespace

std::vector<std::string> export_peft(const std::string& model_dir, const std::string& out_dir,
                                     const ExportOptions& options) {
  const ConvertedTensors converted = read_converted_tensors(model_dir);
  if (!converted.config.lora) {
    throw UserError(model_dir + ": the model has no LoRA adapters (merged, or converted without stage 2): a PEFT "
                                "adapter would be empty; export the merged or lolcats format");
  }
  const std::string base_model =
      options.base_model.empty() ? fs::absolute(model_dir).lexically_normal().string() : options.base_model;
  std::error_code error;
  fs::create_directories(out_dir, error);
  if (error) throw UserError(out_dir + ": cannot create directory (" + error.message() + ")");
  const fs::path out(out_dir);

  NamedTensors adapters;
  for (const auto& [name, tensor] : converted.lora) adapters.emplace_back(peft_tensor_name(name), tensor);
  save_safetensors((out / kPeftWeightsFile).string(), adapters, {{"format", "pt"}});
  ModelConfig attention_only = converted.config;
  attention_only.lora.reset();
  save_safetensors((out / kPeftAttentionFile).string(), converted.hybrid,
                   {{"format", "pt"}, {kSectionKey, lincat_section(attention_only).dump()}});
  write_json_file((out / kPeftConfigFile).string(), adapter_config(*converted.config.lora, base_model));
  write_file_atomically((out / "README.md").string(), readme(converted.config, base_model));
  return {(out / kPeftConfigFile).string(), (out / kPeftWeightsFile).string(), (out / kPeftAttentionFile).string(),
          (out / "README.md").string()};
}

std::shared_ptr<Model> import_peft(const Model& original, const std::string& export_dir) {
  const fs::path dir(export_dir);
  if (!fs::is_directory(dir)) throw UserError(export_dir + ": PEFT export directory not found");
  const LoraConfig lora = read_adapter_config((dir / kPeftConfigFile).string());

  const std::string attention_path = (dir / kPeftAttentionFile).string();
  const auto attention_file = SafetensorsFile::open(attention_path);
  const auto section = attention_file->metadata().find(kSectionKey);
  if (section == attention_file->metadata().end()) {
    throw UserError(attention_path + ": no \"lincat\" entry in the metadata (the attention settings); was it written by lincat export?");
  }
  json section_json;
  try {
    section_json = json::parse(section->second);
  } catch (const json::exception& e) {
    throw UserError(attention_path + ": metadata \"lincat\" is not valid JSON (" + std::string(e.what()) + ")");
  }
  ModelConfig settings = original.config;
  parse_lincat_section(section_json, attention_path + " metadata", settings);

  std::map<std::string, ImportedTensor> tensors;
  for (const TensorInfo& info : attention_file->tensors()) {
    tensors[info.name] = {tensor_from_file(attention_file, info), attention_path + ": tensor '" + info.name + "'"};
  }
  const std::string weights_path = (dir / kPeftWeightsFile).string();
  const auto weights_file = SafetensorsFile::open(weights_path);
  for (const TensorInfo& info : weights_file->tensors()) {
    const std::string origin = weights_path + ": tensor '" + info.name + "'";
    const std::optional<std::string> name = lincat_name_of_peft(info.name);
    if (!name) throw UserError(origin + " does not start with base_model.model. (not a PEFT LoRA tensor name)");
    tensors[*name] = {tensor_from_file(weights_file, info), origin};
  }
  const auto export_name = [&](const std::string& name) {
    return name.find(".lora_") != std::string::npos ? weights_path + ": " + peft_tensor_name(name)
                                                    : attention_path + ": " + name;
  };
  return assemble_converted(original, *settings.hybrid, settings.default_mode, lora, tensors, export_dir, export_name);
}

}  // namespace lincat::io
