#include "lincat/io/hf_config.h"

#include <fstream>
#include <sstream>

#include "lincat/attention/hybrid_settings.h"
#include "lincat/io/json_excerpt.h"
#include "lincat/util/atomic_file.h"
#include "lincat/util/error.h"

namespace lincat::io {
namespace {

using nlohmann::json;

// Largest value accepted for any size field: refuses absurd configs before anything is allocated.
constexpr int64_t kMaxDimension = int64_t{1} << 24;

class FieldReader {
 public:
  FieldReader(const json& object, std::string context) : object_(object), context_(std::move(context)) {}

  bool has(const char* key) const { return object_.contains(key) && !object_.at(key).is_null(); }

  int64_t positive_int(const char* key) const {
    const json& value = required(key);
    if (!value.is_number_integer()) fail(key, "must be an integer, found " + json_excerpt(value));
    const int64_t n = value.get<int64_t>();
    if (n <= 0 || n > kMaxDimension) {
      fail(key, "must be in 1.." + std::to_string(kMaxDimension) + ", found " + std::to_string(n));
    }
    return n;
  }

  int64_t positive_int_or(const char* key, int64_t fallback) const {
    return has(key) ? positive_int(key) : fallback;
  }

  double positive_number_or(const char* key, double fallback) const {
    if (!has(key)) return fallback;
    const json& value = object_.at(key);
    if (!value.is_number()) fail(key, "must be a number, found " + json_excerpt(value));
    const double x = value.get<double>();
    if (!(x > 0) || !std::isfinite(x)) fail(key, "must be a positive finite number");
    return x;
  }

  bool bool_or(const char* key, bool fallback) const {
    if (!has(key)) return fallback;
    const json& value = object_.at(key);
    if (!value.is_boolean()) fail(key, "must be true or false, found " + json_excerpt(value));
    return value.get<bool>();
  }

  std::string string_or(const char* key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    const json& value = object_.at(key);
    if (!value.is_string()) fail(key, "must be a string, found " + json_excerpt(value));
    return value.get<std::string>();
  }

  // An id or a list of ids (Llama 3 lists several eos ids). Negative ids are ignored.
  std::vector<int64_t> id_list(const char* key) const {
    std::vector<int64_t> ids;
    if (!has(key)) return ids;
    const json& value = object_.at(key);
    auto take = [&](const json& item) {
      if (!item.is_number_integer()) fail(key, "must be an integer or a list of integers");
      if (item.get<int64_t>() >= 0) ids.push_back(item.get<int64_t>());
    };
    if (value.is_array()) {
      for (const json& item : value) take(item);
    } else {
      take(value);
    }
    return ids;
  }

  [[noreturn]] void fail(const char* key, const std::string& what) const {
    throw UserError(context_ + ": field '" + key + "' " + what);
  }

 private:
  const json& required(const char* key) const {
    if (!object_.contains(key) || object_.at(key).is_null()) fail(key, "is missing");
    return object_.at(key);
  }

  const json& object_;
  std::string context_;
};

RopeScaling parse_rope_scaling(const json& value, const std::string& context) {
  if (!value.is_object()) throw UserError(context + ": field 'rope_scaling' must be an object or null");
  FieldReader fields(value, context + ": rope_scaling");
  // transformers writes the kind as "rope_type" (>= 4.43) or "type" (older).
  const std::string kind = fields.string_or("rope_type", fields.string_or("type", ""));
  RopeScaling scaling;
  scaling.kind = kind;
  if (kind == "default") {
    scaling.factor = 1.0;
  } else if (kind == "linear") {
    scaling.factor = fields.positive_number_or("factor", 1.0);
  } else if (kind == "llama3") {
    scaling.factor = fields.positive_number_or("factor", 8.0);
    scaling.low_freq_factor = fields.positive_number_or("low_freq_factor", 1.0);
    scaling.high_freq_factor = fields.positive_number_or("high_freq_factor", 4.0);
    scaling.original_max_position_embeddings =
        fields.positive_int_or("original_max_position_embeddings", 8192);
    if (scaling.high_freq_factor <= scaling.low_freq_factor) {
      fields.fail("high_freq_factor", "must exceed low_freq_factor");
    }
  } else {
    throw UserError(context + ": rope_scaling type '" + kind +
                    "' is not supported (lincat implements 'llama3' and 'linear')");
  }
  return scaling;
}

}  // namespace

ModelConfig parse_model_config(const json& root, const std::string& context) {
  if (!root.is_object()) throw UserError(context + ": expected a JSON object");
  FieldReader fields(root, context);
  ModelConfig config;

  std::string architecture;
  if (root.contains("architectures") && root["architectures"].is_array() &&
      !root["architectures"].empty() && root["architectures"][0].is_string()) {
    architecture = root["architectures"][0].get<std::string>();
  } else {
    const std::string model_type = fields.string_or("model_type", "");
    if (model_type == "llama") architecture = "LlamaForCausalLM";
    if (model_type == "mistral") architecture = "MistralForCausalLM";
  }
  if (architecture != "LlamaForCausalLM" && architecture != "MistralForCausalLM") {
    throw UserError(context + ": architecture '" + (architecture.empty() ? "(none)" : architecture) +
                    "' is not supported (lincat reads LlamaForCausalLM and MistralForCausalLM)");
  }
  config.architecture = architecture;

  config.vocab_size = fields.positive_int("vocab_size");
  config.hidden_size = fields.positive_int("hidden_size");
  config.intermediate_size = fields.positive_int("intermediate_size");
  config.num_layers = fields.positive_int("num_hidden_layers");
  config.num_heads = fields.positive_int("num_attention_heads");
  config.num_kv_heads = fields.positive_int_or("num_key_value_heads", config.num_heads);
  if (config.hidden_size % config.num_heads != 0 && !fields.has("head_dim")) {
    fields.fail("hidden_size", "is not divisible by num_attention_heads and no head_dim is given");
  }
  config.head_dim = fields.positive_int_or("head_dim", config.hidden_size / config.num_heads);
  if (config.head_dim % 2 != 0) fields.fail("head_dim", "must be even for rotary embeddings");
  if (config.num_heads % config.num_kv_heads != 0) {
    fields.fail("num_key_value_heads", "must divide num_attention_heads (" +
                                           std::to_string(config.num_heads) + "), found " +
                                           std::to_string(config.num_kv_heads));
  }
  config.max_position_embeddings = fields.positive_int_or("max_position_embeddings", 2048);
  config.rms_norm_eps = fields.positive_number_or("rms_norm_eps", 1e-6);
  config.rope_theta = fields.positive_number_or("rope_theta", 10000.0);
  if (fields.has("rope_scaling")) config.rope_scaling = parse_rope_scaling(root["rope_scaling"], context);
  if (fields.has("sliding_window")) config.sliding_window = fields.positive_int("sliding_window");
  config.tie_word_embeddings = fields.bool_or("tie_word_embeddings", false);

  const std::vector<int64_t> bos = fields.id_list("bos_token_id");
  if (!bos.empty()) config.bos_token_id = bos.front();
  config.eos_token_ids = fields.id_list("eos_token_id");
  config.torch_dtype = fields.string_or("torch_dtype", "float32");

  if (root.contains("lincat")) parse_lincat_section(root["lincat"], context, config);

  const std::string activation = fields.string_or("hidden_act", "silu");
  if (activation != "silu") fields.fail("hidden_act", "'" + activation + "' is not supported (silu only)");
  if (fields.bool_or("attention_bias", false)) fields.fail("attention_bias", "true is not supported");
  if (fields.bool_or("mlp_bias", false)) fields.fail("mlp_bias", "true is not supported");
  return config;
}

namespace {

LoraConfig parse_lora(const json& section, const std::string& where) {
  if (!section.is_object()) throw UserError(where + ": must be an object");
  FieldReader fields(section, where);
  LoraConfig lora;
  lora.rank = fields.positive_int_or("rank", lora.rank);
  lora.alpha = fields.positive_number_or("alpha", lora.alpha);
  const json& targets = section.contains("targets") ? section.at("targets") : json();
  if (!targets.is_array()) fields.fail("targets", "must be a list of projection names");
  for (const json& target : targets) {
    if (!target.is_string()) fields.fail("targets", "must be a list of projection names");
    lora.targets.push_back(target.get<std::string>());
  }
  check_lora_targets(lora.targets, where);
  return lora;
}

}  // namespace

void parse_lincat_section(const json& section, const std::string& context, ModelConfig& config) {
  if (!section.is_object()) throw UserError(context + ": field 'lincat' must be an object");
  const std::string where = context + ": lincat";
  FieldReader fields(section, where);
  // Absent: written before versioning, the same layout as version 1. Newer: refuse, never guess.
  const int64_t version = fields.positive_int_or("format_version", 1);
  if (version > kLincatFormatVersion) {
    fields.fail("format_version", std::to_string(version) + " is newer than this lincat reads (" +
                                      std::to_string(kLincatFormatVersion) + "); update lincat");
  }
  const std::string kind = fields.string_or("attention", "");
  if (kind != "hybrid") {
    throw UserError(where + ": attention kind '" + kind + "' is not supported (lincat knows 'hybrid')");
  }
  attention::HybridConfig hybrid;
  // The attention library's own messages (unknown layout, map or mode) get the file prefixed.
  try {
  for (const attention::HybridSetting& setting : attention::hybrid_settings()) {
    const char* key = setting.name.c_str();
    if (setting.set_text) {
      setting.set_text(hybrid, fields.string_or(key, setting.text(hybrid)));
    } else if (setting.minimum >= 1) {
      hybrid.*setting.number = static_cast<int>(fields.positive_int_or(key, hybrid.*setting.number));
    } else if (fields.has(key)) {
      const json& value = section.at(key);
      if (!value.is_number_integer() || value.get<int64_t>() < setting.minimum || value.get<int64_t>() > (1 << 20)) {
        fields.fail(key, "must be an integer >= " + std::to_string(setting.minimum));
      }
      hybrid.*setting.number = value.get<int>();
    }
  }
  attention::validate(hybrid);
  config.default_mode = attention::parse_mode(fields.string_or("default_mode", "hybrid"));
  if (fields.has("lora")) config.lora = parse_lora(section.at("lora"), where + ".lora");
  } catch (const UserError& e) {
    const std::string message = e.what();
    throw UserError(message.rfind(context, 0) == 0 ? message : where + ": " + message);
  }
  config.hybrid = hybrid;
}

json lincat_section(const ModelConfig& c) {
  const attention::HybridConfig& h = c.hybrid.value();
  json section = {{"format_version", kLincatFormatVersion}, {"attention", "hybrid"}, {"default_mode", attention::mode_name(c.default_mode)}};
  for (const attention::HybridSetting& setting : attention::hybrid_settings()) {
    section[setting.name] = setting.text ? json(setting.text(h)) : json(h.*setting.number);
  }
  if (c.lora) section["lora"] = {{"rank", c.lora->rank}, {"alpha", c.lora->alpha}, {"targets", c.lora->targets}};
  return section;
}

json model_config_to_json(const ModelConfig& c) {
  json out = {
      {"architectures", {c.architecture}},
      {"model_type", c.architecture == "MistralForCausalLM" ? "mistral" : "llama"},
      {"vocab_size", c.vocab_size},
      {"hidden_size", c.hidden_size},
      {"intermediate_size", c.intermediate_size},
      {"num_hidden_layers", c.num_layers},
      {"num_attention_heads", c.num_heads},
      {"num_key_value_heads", c.num_kv_heads},
      {"head_dim", c.head_dim},
      {"max_position_embeddings", c.max_position_embeddings},
      {"rms_norm_eps", c.rms_norm_eps},
      {"rope_theta", c.rope_theta},
      {"hidden_act", "silu"},
      {"attention_bias", false},
      {"mlp_bias", false},
      {"tie_word_embeddings", c.tie_word_embeddings},
      {"torch_dtype", c.torch_dtype.empty() ? "float32" : c.torch_dtype},
      {"sliding_window", c.sliding_window ? json(*c.sliding_window) : json(nullptr)},
      {"rope_scaling", nullptr},
  };
  if (c.rope_scaling) {
    const RopeScaling& s = *c.rope_scaling;
    out["rope_scaling"] = {{"rope_type", s.kind}, {"factor", s.factor}};
    if (s.kind == "llama3") {
      out["rope_scaling"]["low_freq_factor"] = s.low_freq_factor;
      out["rope_scaling"]["high_freq_factor"] = s.high_freq_factor;
      out["rope_scaling"]["original_max_position_embeddings"] = s.original_max_position_embeddings;
    }
  }
  if (c.bos_token_id) out["bos_token_id"] = *c.bos_token_id;
  if (c.eos_token_ids.size() == 1) out["eos_token_id"] = c.eos_token_ids.front();
  if (c.eos_token_ids.size() > 1) out["eos_token_id"] = c.eos_token_ids;
  if (c.hybrid) out["lincat"] = lincat_section(c);
  return out;
}

json read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(path + ": cannot open (missing or unreadable)");
  std::stringstream buffer;
  buffer << in.rdbuf();
  try {
    return json::parse(buffer.str());
  } catch (const json::exception& e) {  // parse_error, and out_of_range for numbers like 1e400
    throw UserError(path + ": invalid JSON (" + std::string(e.what()) + ")");
  }
}

void write_json_file(const std::string& path, const json& value) {
  write_file_atomically(path, value.dump(2) + "\n");
}

ModelConfig load_model_config(const std::string& path) {
  return parse_model_config(read_json_file(path), path);
}

}  // namespace lincat::io
