#include "lincat/train/recipe.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <type_traits>

#include "lincat/model/model_config.h"
#include "lincat/train/builtin_recipes.h"
#include "lincat/util/error.h"

namespace lincat::train {
namespace {

// One recipe setting: its dotted key and how to read it from / write it to YAML.
struct Field {
  std::function<void(const YAML::Node&, const std::string& where)> read;
  std::function<YAML::Node()> write;
};

// Length of the UTF-8 sequence starting at text[i] (1..4), or 0 if it is not valid UTF-8
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
size_t utf8_length(const std::string& text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t n = 0;
  unsigned char low = 0x80, high = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) low = 0xA0;
    if (c == 0xED) high = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) low = 0x90;
    if (c == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (i + n > text.size() || byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

// Text settings (names, paths) must be printable UTF-8: control characters and invalid bytes do
// not survive being written back by to_yaml (a trailing carriage return is dropped, invalid
// bytes are replaced), so a resolved recipe would not repeat the run it describes.
void check_printable(const std::string& text, const std::string& where) {
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F) {
      throw UserError(where + ": control character " + std::to_string(c) + " at byte " + std::to_string(i) +
                      "; expected printable text");
    }
    const size_t n = utf8_length(text, i);
    if (n == 0) throw UserError(where + ": invalid UTF-8 at byte " + std::to_string(i));
    i += n;
  }
}

template <typename T>
T scalar(const YAML::Node& node, const std::string& where, const std::string& expected) {
  T value;
  try {
    if (!node.IsScalar()) throw YAML::Exception(node.Mark(), "");
    value = node.as<T>();
  } catch (const YAML::Exception&) {
    throw UserError(where + ": expected " + expected);
  }
  if constexpr (std::is_same_v<T, std::string>) check_printable(value, where);
  return value;
}

template <typename T>
Field plain_field(T& value, const std::string& expected) {
  return {[&value, expected](const YAML::Node& n, const std::string& where) {
            value = scalar<T>(n, where, expected);
          },
          [&value] { return YAML::Node(value); }};
}

template <typename T>
Field list_field(std::vector<T>& values, const std::string& expected) {
  return {[&values, expected](const YAML::Node& n, const std::string& where) {
            if (!n.IsSequence()) throw UserError(where + ": expected a list of " + expected);
            values.clear();
            for (const YAML::Node& item : n) values.push_back(scalar<T>(item, where, "a list of " + expected));
          },
          [&values] {
            YAML::Node out(YAML::NodeType::Sequence);
            for (const T& v : values) out.push_back(v);
            return out;
          }};
}

// An enum-like setting stored as text: parse throws UserError for unknown names.
template <typename T>
Field named_field(T& value, std::function<T(const std::string&)> parse, std::function<std::string(T)> name) {
  return {[&value, parse](const YAML::Node& n, const std::string& where) {
            const std::string text = scalar<std::string>(n, where, "a name");
            try {
              value = parse(text);
            } catch (const UserError& e) {
              throw UserError(where + ": " + e.what());
            }
          },
          [&value, name] { return YAML::Node(name(value)); }};
}

std::string schedule_name(LrSchedule s) {
  return s == LrSchedule::Cosine ? "cosine" : s == LrSchedule::Plateau ? "plateau" : "constant";
}
LrSchedule parse_schedule(const std::string& text) {
  if (text == "constant") return LrSchedule::Constant;
  if (text == "cosine") return LrSchedule::Cosine;
  if (text == "plateau") return LrSchedule::Plateau;
  throw UserError("unknown schedule '" + text + "' (expected constant, cosine or plateau)");
}
std::string granularity_name(SsdGranularity g) {
  return g == SsdGranularity::Step ? "step" : g == SsdGranularity::Head ? "head" : "layer";
}
SsdGranularity parse_granularity(const std::string& text) {
  if (text == "step") return SsdGranularity::Step;
  if (text == "layer") return SsdGranularity::Layer;
  if (text == "head") return SsdGranularity::Head;
  throw UserError("unknown granularity '" + text + "' (expected step, layer or head)");
}

void add_stage_fields(const std::string& p, StageSettings& s, std::map<std::string, Field>& f) {
  f[p + "steps"] = plain_field(s.steps, "an integer");
  f[p + "token_budget"] = plain_field(s.token_budget, "an integer");
  f[p + "learning_rate"] = plain_field(s.optimiser.learning_rate, "a number");
  f[p + "weight_decay"] = plain_field(s.optimiser.weight_decay, "a number");
  f[p + "schedule"] = named_field<LrSchedule>(s.optimiser.schedule, parse_schedule, schedule_name);
  f[p + "warmup_steps"] = plain_field(s.optimiser.warmup_steps, "an integer");
  f[p + "clip_norm"] = plain_field(s.optimiser.clip_norm, "a number");
  f[p + "eval_interval"] = plain_field(s.eval_interval, "an integer");
  f[p + "early_stopping_patience"] = plain_field(s.early_stopping_patience, "an integer");
}

// Every setting of `r`, by dotted key.
std::map<std::string, Field> fields_of(Recipe& r) {
  std::map<std::string, Field> f;
  f["name"] = plain_field(r.name, "a string");
  f["seed"] = plain_field(r.seed, "a non-negative integer");
  f["checkpoint_interval"] = plain_field(r.checkpoint_interval, "an integer");
  f["log_interval"] = plain_field(r.log_interval, "an integer");
  f["attention.train_mode"] =
      named_field<attention::Mode>(r.train_mode, attention::parse_mode, attention::mode_name);
  f["attention.default_mode"] =
      named_field<attention::Mode>(r.default_mode, attention::parse_mode, attention::mode_name);
  f["attention.window"] = plain_field(r.attention.window, "an integer");
  f["attention.layout"] =
      named_field<attention::Layout>(r.attention.layout, attention::parse_layout, attention::layout_name);
  f["attention.sinks"] = plain_field(r.attention.sinks, "an integer");
  f["attention.feature_map"] = named_field<attention::FeatureMapKind>(
      r.attention.feature_map, attention::parse_feature_map, attention::feature_map_name);
  f["attention.feature_dim"] = plain_field(r.attention.feature_dim, "an integer");
  f["data.sequence_length"] = plain_field(r.data.sequence_length, "an integer");
  f["data.tokens_per_step"] = plain_field(r.data.tokens_per_step, "an integer");
  f["data.micro_batch"] = plain_field(r.data.micro_batch, "an integer");
  f["data.eval_fraction"] = plain_field(r.data.eval_fraction, "a number");
  f["data.format"] = plain_field(r.data.format, "a string");
  f["data.cache_dir"] = plain_field(r.data.cache_dir, "a string");
  add_stage_fields("stage1.", r.stage1, f);
  f["stage1.output_mse_weight"] = plain_field(r.stage1.output_mse_weight, "a number");
  f["stage1.attention_weight_weight"] = plain_field(r.stage1.attention_weight_weight, "a number");
  f["stage1.query_block"] = plain_field(r.stage1.query_block, "an integer");
  add_stage_fields("stage2.", r.stage2, f);
  f["stage2.lora.targets"] = list_field(r.stage2.lora.targets, "projection names");
  f["stage2.lora.rank"] = plain_field(r.stage2.lora.rank, "an integer");
  f["stage2.lora.alpha"] = plain_field(r.stage2.lora.alpha, "a number");
  f["stage2.lora.dropout"] = plain_field(r.stage2.lora.dropout, "a number");
  f["stage2.train_feature_maps"] = plain_field(r.stage2.train_feature_maps, "true or false");
  f["stage2.kl_weight"] = plain_field(r.stage2.kl_weight, "a number");
  f["ssd.enabled"] = plain_field(r.ssd.enabled, "true or false");
  f["ssd.granularity"] = named_field<SsdGranularity>(r.ssd.granularity, parse_granularity, granularity_name);
  f["ssd.drop_schedule"] = list_field(r.ssd.drop_schedule, "probabilities");
  f["ssd.window_schedule"] = list_field(r.ssd.window_schedule, "window sizes");
  return f;
}

std::string location(const std::string& source, const YAML::Node& node) {
  return source + ":" + std::to_string(node.Mark().line + 1);
}

// Reads the settings in `node` (a map) into the fields, keys joined with dots.
void apply_node(const YAML::Node& node, const std::string& prefix, const std::string& source,
                std::map<std::string, Field>& fields) {
  if (!node.IsMap()) throw UserError(location(source, node) + ": expected a mapping of settings");
  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) {  // `? [a, b]: 1`; as<std::string> would throw YAML::BadConversion
      throw UserError(location(source, entry.first) + ": a setting name must be plain text, found a " +
                      (entry.first.IsMap() ? "mapping" : entry.first.IsSequence() ? "list" : "null") +
                      (prefix.empty() ? "" : " under '" + prefix.substr(0, prefix.size() - 1) + "'"));
    }
    const std::string key = prefix + entry.first.Scalar();
    const auto field = fields.find(key);
    if (field != fields.end()) {
      field->second.read(entry.second, location(source, entry.second) + ": " + key);
    } else if (entry.second.IsMap()) {
      apply_node(entry.second, key + ".", source, fields);
    } else {
      throw UserError(location(source, entry.first) + ": unknown setting '" + key + "'");
    }
  }
}

void apply_yaml_text(Recipe& recipe, const std::string& text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw UserError(source + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML (" + e.msg + ")");
  }
  if (root.IsNull()) return;
  std::map<std::string, Field> fields = fields_of(recipe);
  apply_node(root, "", source, fields);
}

void require(bool ok, const std::string& message) {
  if (!ok) throw UserError("recipe " + message);
}

void validate_stage(const std::string& name, const StageSettings& s) {
  require(s.steps >= 0 && s.token_budget >= 0, name + ": steps and token_budget must be >= 0");
  require(s.optimiser.learning_rate > 0 && std::isfinite(s.optimiser.learning_rate),
          name + ".learning_rate must be a positive number");
  require(s.optimiser.weight_decay >= 0, name + ".weight_decay must be >= 0");
  require(s.optimiser.warmup_steps >= 0, name + ".warmup_steps must be >= 0");
  require(s.optimiser.clip_norm >= 0, name + ".clip_norm must be >= 0 (0 turns clipping off)");
  require(s.eval_interval >= 0 && s.early_stopping_patience >= 0,
          name + ": eval_interval and early_stopping_patience must be >= 0");
  require(s.early_stopping_patience == 0 || s.eval_interval > 0,
          name + ".early_stopping_patience needs an eval_interval");
  require(s.optimiser.schedule != LrSchedule::Plateau || s.eval_interval > 0,
          name + ".schedule plateau needs an eval_interval");
}

}  // namespace

const std::vector<std::string>& builtin_recipe_names() {
  static const std::vector<std::string> names = {"lolcats", "hedgecats", "ssd", "linear"};
  return names;
}

Recipe load_recipe(const std::string& name_or_path) {
  Recipe recipe;
  const std::string builtin = builtin_recipe_yaml(name_or_path);
  if (!builtin.empty()) {
    apply_yaml_text(recipe, builtin, "built-in recipe " + name_or_path);
    return recipe;
  }
  if (!std::filesystem::is_regular_file(name_or_path)) {
    std::string names;
    for (const std::string& n : builtin_recipe_names()) names += (names.empty() ? "" : ", ") + n;
    throw UserError("--recipe " + name_or_path + ": neither a recipe file nor a built-in recipe (" + names + ")");
  }
  YAML::Node root;
  try {
    root = YAML::LoadFile(name_or_path);
  } catch (const YAML::Exception& e) {
    throw UserError(name_or_path + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML (" + e.msg + ")");
  }
  recipe.name = std::filesystem::path(name_or_path).stem().string();
  if (root.IsNull()) return recipe;
  std::map<std::string, Field> fields = fields_of(recipe);
  apply_node(root, "", name_or_path, fields);
  return recipe;
}

void apply_override(Recipe& recipe, const std::string& assignment) {
  const size_t equals = assignment.find('=');
  if (equals == std::string::npos || equals == 0) {
    throw UserError("--set '" + assignment + "': expected key=value, e.g. stage1.steps=100");
  }
  const std::string key = assignment.substr(0, equals);
  std::map<std::string, Field> fields = fields_of(recipe);
  const auto field = fields.find(key);
  if (field == fields.end()) throw UserError("--set '" + assignment + "': unknown setting '" + key + "'");
  YAML::Node value;
  try {
    value = YAML::Load(assignment.substr(equals + 1));
  } catch (const YAML::Exception& e) {
    throw UserError("--set '" + assignment + "': invalid value (" + e.msg + ")");
  }
  field->second.read(value, "--set " + key);
}

void validate(const Recipe& r) {
  try {
    attention::validate(r.attention);
  } catch (const UserError& e) {
    throw UserError("recipe attention: " + std::string(e.what()));
  }
  require(r.train_mode == attention::Mode::Hybrid || r.train_mode == attention::Mode::Linear,
          "attention.train_mode must be hybrid or linear");
  require(r.default_mode != attention::Mode::Softmax, "attention.default_mode cannot be softmax");
  require(r.data.sequence_length >= 2, "data.sequence_length must be >= 2");
  require(r.data.tokens_per_step >= r.data.sequence_length,
          "data.tokens_per_step must be at least one sequence (data.sequence_length)");
  require(r.data.micro_batch >= 1, "data.micro_batch must be >= 1");
  require(r.data.eval_fraction >= 0 && r.data.eval_fraction < 1, "data.eval_fraction must be in [0, 1)");
  require(r.data.format == "auto" || r.data.format == "text" || r.data.format == "jsonl" ||
              r.data.format == "alpaca",
          "data.format must be auto, text, jsonl or alpaca");
  validate_stage("stage1", r.stage1);
  validate_stage("stage2", r.stage2);
  require(r.stage1.output_mse_weight >= 0 && r.stage1.attention_weight_weight >= 0 &&
              r.stage1.output_mse_weight + r.stage1.attention_weight_weight > 0,
          "stage1: output_mse_weight and attention_weight_weight must be >= 0, not both 0");
  require(r.stage1.query_block >= 1, "stage1.query_block must be >= 1");
  check_lora_targets(r.stage2.lora.targets, "recipe stage2.lora.targets");
  require(r.stage2.lora.rank >= 1 && r.stage2.lora.alpha > 0, "stage2.lora: rank >= 1 and alpha > 0");
  require(r.stage2.lora.dropout >= 0 && r.stage2.lora.dropout < 1, "stage2.lora.dropout must be in [0, 1)");
  require(r.stage2.kl_weight >= 0, "stage2.kl_weight must be >= 0");
  require(!r.ssd.drop_schedule.empty(), "ssd.drop_schedule needs at least one probability");
  for (double p : r.ssd.drop_schedule) require(p >= 0 && p <= 1, "ssd.drop_schedule: probabilities in [0, 1]");
  for (int64_t w : r.ssd.window_schedule) require(w >= 1, "ssd.window_schedule: window sizes >= 1");
  require(!r.ssd.enabled || r.train_mode == attention::Mode::Hybrid,
          "ssd needs attention.train_mode hybrid (it drops the window branch)");
  require(r.checkpoint_interval >= 1 && r.log_interval >= 1, "checkpoint_interval and log_interval must be >= 1");
}

std::string to_yaml(const Recipe& recipe) {
  Recipe copy = recipe;  // fields_of binds to a mutable recipe
  YAML::Node root(YAML::NodeType::Map);
  for (auto& [key, field] : fields_of(copy)) {
    std::vector<std::string> parts;
    for (size_t start = 0;;) {
      const size_t dot = key.find('.', start);
      parts.push_back(key.substr(start, dot - start));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    YAML::Node node = root;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      if (!node[parts[i]]) node[parts[i]] = YAML::Node(YAML::NodeType::Map);
      node.reset(node[parts[i]]);
    }
    node[parts.back()] = field.write();
  }
  YAML::Emitter out;
  out << root;
  return std::string(out.c_str()) + "\n";
}

int64_t stage_steps(const StageSettings& stage, const DataSettings& data) {
  if (stage.token_budget > 0) {  // ceil without forming token_budget + tokens_per_step, which can overflow
    return stage.token_budget / data.tokens_per_step + (stage.token_budget % data.tokens_per_step != 0 ? 1 : 0);
  }
  return stage.steps;
}

}  // namespace lincat::train
