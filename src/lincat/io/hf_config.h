// Reading and writing Hugging Face config.json for LlamaForCausalLM / MistralForCausalLM.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "lincat/model/model_config.h"

namespace lincat::io {

// Reads and validates `path`. Throws UserError naming the file and the field on: missing file,
// invalid JSON, unknown architecture, missing or mistyped required field, inconsistent sizes,
// unsupported rope_scaling type, hidden_act other than silu, attention/MLP biases.
ModelConfig load_model_config(const std::string& path);
// Same, from parsed JSON; `context` names the source in messages.
ModelConfig parse_model_config(const nlohmann::json& json, const std::string& context);

// The "lincat" section of a converted model's config.json <-> HybridConfig and default mode.
// Format: {"format_version": 1, "attention": "hybrid", "window": 64, "layout": "standard", "sinks": 0,
//          "feature_map": "hedgehog", "feature_dim": 64, "sinks_mode_keys": 8, "default_mode": "hybrid",
//          "lora": {"rank": 8, "alpha": 16, "targets": ["q_proj", "k_proj", "v_proj", "o_proj"]}}
// "lora" is present only while a model carries unmerged adapters. docs/FORMAT.md specifies it.
inline constexpr int64_t kLincatFormatVersion = 1;  // "format_version"; readers refuse newer ones
void parse_lincat_section(const nlohmann::json& section, const std::string& context, ModelConfig& config);
nlohmann::json lincat_section(const ModelConfig& config);

// The config.json a Hugging Face checkpoint would carry for `config` (architectures, sizes,
// rope, window, ids), readable by transformers and by parse_model_config.
nlohmann::json model_config_to_json(const ModelConfig& config);

// Reads a JSON file; UserError naming the file if it is missing or not valid JSON.
nlohmann::json read_json_file(const std::string& path);
// Writes JSON atomically (temp name, then rename), indented.
void write_json_file(const std::string& path, const nlohmann::json& json);

}  // namespace lincat::io
