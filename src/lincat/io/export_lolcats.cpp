// The lolcats export: the tensors under the names and shapes of the LoLCATs code base's
// sliding-window hybrid layer (LolcatsSlidingWindowAttention, attention_type
// lolcats_llama_window_sw) and a YAML with its matching settings; and its import.
//
// The correspondence (docs/FORMAT.md, "lolcats"): lincat's hedgehog map is LoLCATs' softmax_dim
// (fullspace, eps 1e-12) after an untied_head_einsum kernel [H, d, f] without bias or skip
// connection; gamma = sigmoid(mixing_logit) is sigmoid(window_factors) with
// affine_attention_factors false (the linear branch's factor is 1); both use the standard window
// i - w < j <= i, one normaliser, the window maximum subtracted from the window terms only, and
// feature maps applied per query head to post-RoPE, GQA-expanded keys.
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <sstream>

#include "lincat/attention/feature_map.h"
#include "lincat/io/export_common.h"
#include "lincat/io/export_formats.h"
#include "lincat/io/tensor_io.h"
#include "lincat/util/atomic_file.h"
#include "lincat/util/error.h"

namespace lincat::io {
namespace {

namespace fs = std::filesystem;

constexpr const char* kTensorsFile = "lolcats.safetensors";
constexpr const char* kSettingsFile = "lolcats.yaml";
constexpr const char* kAttentionType = "lolcats_llama_window_sw";
constexpr double kFeatureEps = attention::kHedgehogFeatureFloor;

// lincat's name suffix -> LoLCATs' (both after "model.layers.N.self_attn.").
const std::vector<std::pair<std::string, std::string>>& renamed_suffixes() {
  static const std::vector<std::pair<std::string, std::string>> suffixes = {
      {".feature_map_q.weight", ".feature_map_q.mlp.layer"},
      {".feature_map_k.weight", ".feature_map_k.mlp.layer"},
      {".mixing_logit", ".window_factors"}};
  return suffixes;
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string replace_suffix(const std::string& text, const std::string& from, const std::string& to) {
  return text.substr(0, text.size() - from.size()) + to;
}

std::string lolcats_name(const std::string& lincat_name) {
  if (lincat_name.find(".lora_") != std::string::npos) return peft_tensor_name(lincat_name);
  for (const auto& [ours, theirs] : renamed_suffixes()) {
    if (ends_with(lincat_name, ours)) return replace_suffix(lincat_name, ours, theirs);
  }
  throw std::logic_error("no LoLCATs name for " + lincat_name);
}

// LoLCATs' name -> lincat's. Also takes the names of LoLCATs' own checkpoints, which carry
// PeftModel's prefix on every tensor and the adapter name ("lora_A.default.weight").
std::optional<std::string> lincat_name_of_lolcats(std::string name) {
  if (const std::optional<std::string> stripped = lincat_name_of_peft(name)) name = *stripped;
  for (const char* adapter : {".lora_A.default.weight", ".lora_B.default.weight"}) {
    if (ends_with(name, adapter)) name = replace_suffix(name, ".default.weight", ".weight");
  }
  if (name.find(".lora_") != std::string::npos) return name;
  for (const auto& [ours, theirs] : renamed_suffixes()) {
    if (ends_with(name, theirs)) return replace_suffix(name, theirs, ours);
  }
  return std::nullopt;
}

// Why lincat's settings have no LoLCATs equivalent, or empty.
std::string unsupported_reason(const attention::HybridConfig& h) {
  if (h.layout == attention::Layout::Terraced) {
    return "the terraced layout: LoLCATs' terraced layer (lolcats_llama_window_tk) aligns its blocks to the end of "
           "the sequence, lincat's start at position 0, so their outputs differ";
  }
  if (h.sinks > 0) return "sinks (" + std::to_string(h.sinks) + "): LoLCATs' window has no sink tokens";
  if (h.feature_map != attention::FeatureMapKind::Hedgehog) {
    return "the " + attention::feature_map_name(h.feature_map) +
           " feature map: LoLCATs' learned maps with the same formula are hedgehog's (softmax_dim after "
           "untied_head_einsum); its exp_dim shifts each half by its own extreme, its biases are one per head, its "
           "pos_elu and relu clamp at 1e-12";
  }
  return "";
}

std::string settings_yaml(const ModelConfig& c, const std::string& base_model) {
  const attention::HybridConfig& h = *c.hybrid;
  std::ostringstream y;
  y << "# LoLCATs settings matching a lincat conversion (lincat export --format lolcats).\n"
    << "# `model` and `attention` make a configs/model/*.yaml; `finetune` belongs in a\n"
    << "# configs/experiment/*.yaml. Tensors: " << kTensorsFile << " (README.md says how to load them).\n"
    << "name: llama\n"
    << "model:\n"
    << "  pretrained_model_name_or_path: \"" << base_model << "\"\n"
    << "  return_dict: true\n"
    << "  device_map: auto\n"
    << "  low_cpu_mem_usage: true\n"
    << "  attn_implementation: eager\n"
    << "  torch_dtype: " << (c.torch_dtype.empty() ? "float32" : c.torch_dtype) << "\n"
    << "  rope_theta: " << nlohmann::json(c.rope_theta).dump() << "\n"
    << "attention:\n"
    << "  attention_type: " << kAttentionType << "\n"
    << "  window_size: " << h.window << "\n"
    << "  affine_attention_factors: false\n"
    << "  init_window_factor: -2.1972245773362196\n"
    << "  feature_map: softmax_dim\n"
    << "  feature_map_kwargs:\n"
    << "    eps: 1.0e-12\n"  // YAML 1.1 readers (PyYAML) take 1e-12 for a string
    << "    fullspace: true\n"
    << "  learned_kernel: untied_head_einsum\n"
    << "  learned_kernel_kwargs:\n"
    << "    feature_dim: " << h.feature_dim << "\n"
    << "    skip_connection: false\n"
    << "    bias: false\n"
    << "    zero_init: false\n"
    << "  tie_qk_kernels: false\n"
    << "  train_qk: false\n";
  if (c.lora) {
    y << "finetune:\n"
      << "  method: lora\n"
      << "  kwargs:\n"
      << "    r: " << c.lora->rank << "\n"
      << "    lora_alpha: " << json_number(c.lora->alpha).dump() << "\n"
      << "    lora_dropout: 0\n"
      << "    target_modules: " << nlohmann::json(c.lora->targets).dump() << "\n";
  }
  return y.str();
}

// Checkpoint names LoLCATs' demo script parses for its config names: -d=<distill experiment>,
// -m=<model config>, -f=<finetune experiment>.
constexpr const char* kCheckpointStem =
    "lincat-d=distill_alpaca_clean_xent0_mse1000_lr1e-2-m=lincat_export-f=finetune_lora_qkvo_alpaca_clean-s=0";

std::string readme() {
  const std::string stem = kCheckpointStem;
  return std::string("# LoLCATs export of a lincat conversion\n\n") +
         "- `" + kTensorsFile + "`: per layer N, `model.layers.N.self_attn.feature_map_q.mlp.layer` and\n"
         "  `feature_map_k.mlp.layer` [heads, head_dim, feature_dim], `window_factors` [1, heads, 1, 1] (the logit;\n"
         "  LoLCATs takes its sigmoid), and the LoRA tensors under PEFT's names\n"
         "  (`base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight` [r, in], `lora_B.weight` [out, r]).\n"
         "- `" + kSettingsFile + "`: the matching LoLCATs settings: `model` and `attention` form a model config,\n"
         "  `finetune` is the LoRA section of a finetune experiment config.\n\n"
         "Into the LoLCATs code base (github.com/HazyResearch/lolcats): its demo loads `.pt` checkpoints whose\n"
         "`model_state_dict` holds the trained tensors (LoRA ones under PeftModel's names with the adapter name\n"
         "`default`) and finds its configs from the checkpoint names. From the LoLCATs checkout (`EXPORT` is\n"
         "this directory; with another LoRA than q, k, v, o at r 8, alpha 16, copy\n"
         "configs/experiment/finetune_lora_qkvo_alpaca_clean.yaml under a new name, put this `finetune`\n"
         "section in it, and use that name after `-f=`):\n\n"
         "```\n"
         "cp EXPORT/" + kSettingsFile + " configs/model/lincat_export.yaml\n"
         "python - <<'PY'\n"
         "import torch\n"
         "from safetensors.torch import load_file\n"
         "tensors = load_file('EXPORT/" + kTensorsFile + "')\n"
         "attention = {k: v for k, v in tensors.items() if '.lora_' not in k}\n"
         "lora = {k.replace('.weight', '.default.weight'): v for k, v in tensors.items() if '.lora_' in k}\n"
         "torch.save({'model_state_dict': attention}, '" + stem + "_distill.pt')\n"
         "torch.save({'model_state_dict': lora}, '" + stem + "_ft.pt')\n"
         "PY\n"
         "python demo_lolcats_llm.py --attn_mlp_checkpoint_path " + stem + "_distill.pt \\\n"
         "    --finetune_checkpoint_path " + stem + "_ft.pt\n"
         "```\n\n"
         "Back into lincat: `lincat convert-init ORIGINAL_MODEL --from-lolcats " + kTensorsFile + " --out DIR`.\n";
}

// --- import ---------------------------------------------------------------------------------

class YamlReader {
 public:
  YamlReader(YAML::Node node, std::string where) : node_(std::move(node)), where_(std::move(where)) {}

  YamlReader child(const char* key) const {
    const YAML::Node value = node_[key];
    if (!value || !value.IsMap()) fail(key, "is missing or not a mapping");
    return YamlReader(value, path_to(key));
  }
  bool has(const char* key) const { return node_[key] && !node_[key].IsNull(); }

  template <typename T>
  T get(const char* key) const {
    if (!has(key)) fail(key, "is missing");
    try {
      return node_[key].as<T>();
    } catch (const YAML::Exception&) {
      fail(key, "has the wrong type");
    }
  }
  template <typename T>
  T get_or(const char* key, T fallback) const {
    return has(key) ? get<T>(key) : fallback;
  }
  template <typename T>
  void require(const char* key, const T& expected, T fallback, const std::string& why) const {
    if (get_or<T>(key, fallback) != expected) fail(key, "must be " + YAML::Dump(YAML::Node(expected)) + ": " + why);
  }

  [[noreturn]] void fail(const char* key, const std::string& what) const {
    throw UserError(path_to(key) + " " + what);
  }

 private:
  std::string path_to(const char* key) const { return where_ + (where_.back() == ' ' ? "" : ".") + key; }

  YAML::Node node_;
  std::string where_;
};

struct LolcatsSettings {
  attention::HybridConfig hybrid;
  bool tied_feature_maps = false;
  std::optional<LoraConfig> lora;
};

LolcatsSettings read_settings(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw UserError(path + ": cannot read the LoLCATs settings (the YAML written beside the tensors)");
  } catch (const YAML::Exception& e) {
    throw UserError(path + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML (" + e.msg + ")");
  }
  if (!root.IsMap()) throw UserError(path + ": expected a mapping with an `attention` section");
  const YamlReader layer = YamlReader(root, path + ": ").child("attention");
  LolcatsSettings s;
  const std::string type = layer.get<std::string>("attention_type");
  if (type != kAttentionType && type != "lolcats_long_llama_window_sw") {
    layer.fail("attention_type", "is '" + type + "'; lincat imports the standard sliding-window hybrid (" +
                                         kAttentionType + ")");
  }
  s.hybrid.window = layer.get<int>("window_size");
  layer.require<bool>("affine_attention_factors", false, false, "lincat's linear branch has factor 1");
  layer.require<std::string>("feature_map", "softmax_dim", "", "lincat imports the hedgehog map");
  if (layer.has("feature_map_kwargs")) {
    const YamlReader kwargs = layer.child("feature_map_kwargs");
    kwargs.require<bool>("fullspace", true, true, "hedgehog has both halves");
    kwargs.require<double>("eps", kFeatureEps, kFeatureEps, "lincat clamps features at 1e-12");
  }
  layer.require<std::string>("learned_kernel", "untied_head_einsum", "", "one [d, f] projection per head");
  const YamlReader kernel = layer.child("learned_kernel_kwargs");
  s.hybrid.feature_dim = kernel.get<int>("feature_dim");
  kernel.require<bool>("skip_connection", false, false, "lincat's projection has no skip connection");
  kernel.require<bool>("bias", false, false, "lincat's hedgehog projection has no bias");
  s.tied_feature_maps = layer.get_or<bool>("tie_qk_kernels", false);
  attention::validate(s.hybrid);
  if (root["finetune"]) {
    const YamlReader finetune = YamlReader(root, path + ": ").child("finetune");
    finetune.require<std::string>("method", "lora", "", "lincat imports LoRA adapters");
    const YamlReader kwargs = finetune.child("kwargs");
    LoraConfig lora;
    lora.rank = kwargs.get<int64_t>("r");
    lora.alpha = kwargs.get<double>("lora_alpha");
    if (lora.rank < 1 || !(lora.alpha > 0)) kwargs.fail("r", "and lora_alpha must be positive");
    for (std::string target : kwargs.get<std::vector<std::string>>("target_modules")) {
      lora.targets.push_back(target.substr(target.rfind('.') + 1));  // LoLCATs also writes self_attn.q_proj
    }
    check_lora_targets(lora.targets, path + ": finetune.kwargs.target_modules");
    s.lora = lora;
  }
  return s;
}

}  // namespace

std::vector<std::string> export_lolcats(const std::string& model_dir, const std::string& out_dir,
                                        const ExportOptions& options) {
  const ConvertedTensors converted = read_converted_tensors(model_dir);
  const std::string reason = unsupported_reason(*converted.config.hybrid);
  if (!reason.empty()) throw UserError(model_dir + ": LoLCATs has no equivalent of " + reason);
  std::error_code error;
  fs::create_directories(out_dir, error);
  if (error) throw UserError(out_dir + ": cannot create directory (" + error.message() + ")");
  const fs::path out(out_dir);

  NamedTensors tensors;
  for (const NamedTensors* group : {&converted.hybrid, &converted.lora}) {
    for (const auto& [name, tensor] : *group) {
      const bool logit = ends_with(name, ".mixing_logit");
      tensors.emplace_back(lolcats_name(name), logit ? tensor.reshape({1, -1, 1, 1}) : tensor);  // [H] -> [1, H, 1, 1]
    }
  }
  save_safetensors((out / kTensorsFile).string(), tensors, {{"format", "pt"}});
  const std::string base_model = options.base_model.empty() ? fs::absolute(model_dir).lexically_normal().string()
                                                            : options.base_model;
  write_file_atomically((out / kSettingsFile).string(), settings_yaml(converted.config, base_model));
  write_file_atomically((out / "README.md").string(), readme());
  return {(out / kTensorsFile).string(), (out / kSettingsFile).string(), (out / "README.md").string()};
}

std::shared_ptr<Model> import_lolcats(const Model& original, const std::string& tensors_file) {
  const std::string settings_path = fs::path(tensors_file).replace_extension(".yaml").string();
  const LolcatsSettings settings = read_settings(settings_path);
  std::map<std::string, ImportedTensor> tensors;
  for (const auto& [name, tensor] : load_safetensors(tensors_file)) {
    const std::string origin = tensors_file + ": tensor '" + name + "'";
    const std::optional<std::string> lincat_name = lincat_name_of_lolcats(name);
    if (!lincat_name) throw UserError(origin + " is not a LoLCATs feature map, window factor or LoRA tensor");
    at::Tensor value = tensor;
    if (ends_with(*lincat_name, ".mixing_logit")) {
      const int64_t H = original.config.num_heads;
      if (tensor.sizes().vec() != std::vector<int64_t>{1, H, 1, 1}) {
        throw UserError(origin + " has shape " + shape_string(tensor.sizes().vec()) + ", expected [1, " +
                        std::to_string(H) + ", 1, 1]");
      }
      value = tensor.reshape({H});
    }
    tensors[*lincat_name] = {value, origin};
  }
  if (settings.tied_feature_maps) {  // one map for queries and keys: the file may hold it once
    std::map<std::string, ImportedTensor> keys;
    for (const auto& [name, imported] : tensors) {
      if (ends_with(name, ".feature_map_q.weight")) {
        const std::string key_name = replace_suffix(name, ".feature_map_q.weight", ".feature_map_k.weight");
        if (!tensors.count(key_name)) keys[key_name] = imported;
      }
    }
    tensors.insert(keys.begin(), keys.end());
  }
  const auto export_name = [&](const std::string& name) { return tensors_file + ": " + lolcats_name(name); };
  return assemble_converted(original, settings.hybrid, attention::Mode::Hybrid, settings.lora, tensors, tensors_file,
                            export_name);
}

}  // namespace lincat::io
