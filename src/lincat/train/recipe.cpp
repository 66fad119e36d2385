#include "lincat/train/recipe.h"

#include <cmath>
#include <filesystem>
#include <functional>
#include <map>

#include "lincat/attention/hybrid_settings.h"
#include "lincat/model/model_config.h"
#include "lincat/train/builtin_recipes.h"
#include "lincat/train/recipe_fields.h"
#include "lincat/train/examples.h"
#include "lincat/util/error.h"
#include "lincat/util/name_table.h"

namespace lincat::train {
namespace {

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

void add_stage_fields(const std::string& p, StageSettings& s, Fields& f) {
  f[p + "steps"] = plain_field(s.steps, "an integer");
  f[p + "token_budget"] = plain_field(s.token_budget, "an integer");
  add_optimiser_fields(p, s.optimiser, f);
  f[p + "eval_interval"] = plain_field(s.eval_interval, "an integer");
  f[p + "early_stopping_patience"] = plain_field(s.early_stopping_patience, "an integer");
}

// Every setting of `r`, by dotted key.
Fields fields_of(Recipe& r) {
  Fields f;
  f["name"] = plain_field(r.name, "a string");
  f["seed"] = plain_field(r.seed, "a non-negative integer");
  f["checkpoint_interval"] = plain_field(r.checkpoint_interval, "an integer");
  f["log_interval"] = plain_field(r.log_interval, "an integer");
  f["attention.square_feature_map"] = plain_field(r.square_feature_map, "true or false");
  f["stage1.mode"] = named_field<attention::Mode>(r.stage1.mode, attention::parse_mode, attention::mode_name);
  f["stage2.mode"] = named_field<attention::Mode>(r.stage2.mode, attention::parse_mode, attention::mode_name);
  // Older recipes: one train_mode for both stages. Read, never written (stage1.mode and
  // stage2.mode carry it); a stageN.mode later in the same file wins.
  f["attention.train_mode"] = text_field(
      [&r](const std::string& text) { r.stage1.mode = r.stage2.mode = attention::parse_mode(text); }, nullptr);
  f["attention.default_mode"] =
      named_field<attention::Mode>(r.default_mode, attention::parse_mode, attention::mode_name);
  for (const attention::HybridSetting& setting : attention::hybrid_settings()) {
    attention::HybridConfig& h = r.attention;
    f["attention." + setting.name] =
        setting.number ? plain_field(h.*setting.number, "an integer")
                       : text_field([&h, setting](const std::string& text) { setting.set_text(h, text); },
                                    [&h, setting] { return setting.text(h); });
  }
  add_data_fields("data.", r.data, f);
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
  f["stage2.micro_batch_tokens"] = plain_field(r.stage2.micro_batch_tokens, "an integer");
  f["stage2.loss_chunk_tokens"] = plain_field(r.stage2.loss_chunk_tokens, "an integer");
  f["stage2.gradient_checkpointing"] = plain_field(r.stage2.gradient_checkpointing, "true or false");
  f["ssd.enabled"] = plain_field(r.ssd.enabled, "true or false");
  f["ssd.granularity"] = named_field<SsdGranularity>(r.ssd.granularity, parse_granularity, granularity_name);
  f["ssd.drop_schedule"] = list_field(r.ssd.drop_schedule, "probabilities");
  f["ssd.window_schedule"] = list_field(r.ssd.window_schedule, "window sizes");
  return f;
}

void require(bool ok, const std::string& message) {
  if (!ok) throw UserError("recipe " + message);
}


}  // namespace

void add_optimiser_fields(const std::string& p, OptimiserSettings& o, Fields& f) {
  f[p + "learning_rate"] = plain_field(o.learning_rate, "a number");
  f[p + "weight_decay"] = plain_field(o.weight_decay, "a number");
  f[p + "schedule"] = named_field<LrSchedule>(o.schedule, parse_schedule, schedule_name);
  f[p + "warmup_steps"] = plain_field(o.warmup_steps, "an integer");
  f[p + "clip_norm"] = plain_field(o.clip_norm, "a number");
  f[p + "min_learning_rate"] = plain_field(o.min_learning_rate, "a number");
}

void add_data_fields(const std::string& p, DataSettings& d, Fields& f) {
  f[p + "sequence_length"] = plain_field(d.sequence_length, "an integer");
  f[p + "tokens_per_step"] = plain_field(d.tokens_per_step, "an integer");
  f[p + "micro_batch"] = plain_field(d.micro_batch, "an integer");
  f[p + "eval_fraction"] = plain_field(d.eval_fraction, "a number");
  f[p + "format"] = plain_field(d.format, "a string");
  f[p + "cache_dir"] = plain_field(d.cache_dir, "a string");
  f[p + "synthetic.share"] = plain_field(d.synthetic.share, "a number");
  f[p + "synthetic.kinds"] = list_field(d.synthetic.kinds, "synthetic kinds (passkey, associative_recall, copy)");
  f[p + "synthetic.min_distance"] = plain_field(d.synthetic.min_distance, "an integer");
  f[p + "synthetic.max_distance"] = plain_field(d.synthetic.max_distance, "an integer");
  f[p + "synthetic.answers_only"] = plain_field(d.synthetic.answers_only, "true or false");
}

void validate_stage(const StageSettings& s, const std::string& name, const std::string& context) {
  const auto require = [&context](bool ok, const std::string& message) {
    if (!ok) throw UserError(context + " " + message);
  };
  require(s.steps >= 0 && s.token_budget >= 0, name + ": steps and token_budget must be >= 0");
  require(s.optimiser.learning_rate > 0 && std::isfinite(s.optimiser.learning_rate),
          name + ".learning_rate must be a positive number");
  require(s.optimiser.weight_decay >= 0, name + ".weight_decay must be >= 0");
  require(s.optimiser.warmup_steps >= 0, name + ".warmup_steps must be >= 0");
  require(s.optimiser.clip_norm >= 0, name + ".clip_norm must be >= 0 (0 turns clipping off)");
  require(s.optimiser.min_learning_rate >= 0 && s.optimiser.min_learning_rate <= s.optimiser.learning_rate,
          name + ".min_learning_rate must be in [0, learning_rate]");
  require(s.eval_interval >= 0 && s.early_stopping_patience >= 0,
          name + ": eval_interval and early_stopping_patience must be >= 0");
  require(s.early_stopping_patience == 0 || s.eval_interval > 0,
          name + ".early_stopping_patience needs an eval_interval");
  require(s.optimiser.schedule != LrSchedule::Plateau || s.eval_interval > 0,
          name + ".schedule plateau needs an eval_interval");
}

void validate_data(const DataSettings& d, const std::string& c) {
  const auto check = [&c](bool ok, const std::string& message) {
    if (!ok) throw UserError(c + " " + message);
  };
  check(d.sequence_length >= 2, "data.sequence_length must be >= 2");
  check(d.tokens_per_step >= d.sequence_length,
        "data.tokens_per_step must be at least one sequence (data.sequence_length)");
  check(d.micro_batch >= 1, "data.micro_batch must be >= 1");
  check(d.eval_fraction >= 0 && d.eval_fraction < 1, "data.eval_fraction must be in [0, 1)");
  const auto parses = [&check](const std::string& setting, const std::function<void()>& parse) {
    try {
      parse();
    } catch (const UserError& e) {
      check(false, setting + ": " + e.what());
    }
  };
  parses("data.format", [&d] { parse_data_format(d.format); });
  const SyntheticSettings& s = d.synthetic;
  check(s.share >= 0 && s.share < 1, "data.synthetic.share must be in [0, 1)");
  check(s.share == 0 || !s.kinds.empty(), "data.synthetic.kinds needs at least one kind when share > 0");
  for (const std::string& kind : s.kinds) parses("data.synthetic.kinds", [&kind] { parse_synthetic_kind(kind); });
  check(s.min_distance >= 1 && s.max_distance >= s.min_distance,
        "data.synthetic: need 1 <= min_distance <= max_distance");
  check(s.share == 0 || s.min_distance < d.sequence_length,
        "data.synthetic.min_distance must be below data.sequence_length");
}

const std::vector<std::string>& builtin_recipe_names() {
  static const std::vector<std::string> names = {"lolcats", "hedgecats", "ssd", "linear"};
  return names;
}

Recipe load_recipe(const std::string& name_or_path) {
  Recipe recipe;
  const std::string builtin = builtin_recipe_yaml(name_or_path);
  if (!builtin.empty()) {
    Fields fields = fields_of(recipe);
    apply_yaml_text(builtin, "built-in recipe " + name_or_path, fields);
    return recipe;
  }
  if (!std::filesystem::is_regular_file(name_or_path)) {
    std::string names;
    for (const std::string& n : builtin_recipe_names()) names += (names.empty() ? "" : ", ") + n;
    throw UserError("recipe " + name_or_path + ": neither a recipe file nor a built-in recipe (" + names + ")");
  }
  recipe.name = std::filesystem::path(name_or_path).stem().string();
  Fields fields = fields_of(recipe);
  apply_yaml_file(name_or_path, fields);
  return recipe;
}

void apply_override(Recipe& recipe, const std::string& assignment) {
  Fields fields = fields_of(recipe);
  apply_assignment(assignment, fields, "stage1.steps=100");
}

namespace {

const util::NameTable<SyntheticKind>& synthetic_kind_table() {
  static const util::NameTable<SyntheticKind> table = {{SyntheticKind::Passkey, "passkey"},
                                                       {SyntheticKind::AssociativeRecall, "associative_recall"},
                                                       {SyntheticKind::Copy, "copy"}};
  return table;
}

}  // namespace

std::string synthetic_kind_name(SyntheticKind kind) { return util::name_of(synthetic_kind_table(), kind); }

SyntheticKind parse_synthetic_kind(const std::string& name) {
  return util::parse_from(synthetic_kind_table(), name, "kind");
}

void apply_overrides(Recipe& recipe, const RecipeOverrides& overrides) {
  for (const std::string& assignment : overrides.assignments) apply_override(recipe, assignment);
  const auto set_steps = [](StageSettings& stage, std::optional<int64_t> steps) {
    if (!steps) return;
    stage.steps = *steps;
    stage.token_budget = 0;
  };
  set_steps(recipe.stage1, overrides.stage1_steps);
  set_steps(recipe.stage2, overrides.stage2_steps);
}

void validate(const Recipe& r) {
  try {
    attention::validate(r.attention);
  } catch (const UserError& e) {
    throw UserError("recipe attention: " + std::string(e.what()));
  }
  for (const auto& [name, mode] : {std::pair{"stage1.mode", r.stage1.mode}, std::pair{"stage2.mode", r.stage2.mode}}) {
    require(mode == attention::Mode::Hybrid || mode == attention::Mode::Linear,
            std::string(name) + " must be hybrid or linear");
  }
  require(r.default_mode != attention::Mode::Softmax, "attention.default_mode cannot be softmax");
  validate_data(r.data, "recipe");
  validate_stage(r.stage1, "stage1", "recipe");
  validate_stage(r.stage2, "stage2", "recipe");
  require(r.stage1.output_mse_weight >= 0 && r.stage1.attention_weight_weight >= 0 &&
              r.stage1.output_mse_weight + r.stage1.attention_weight_weight > 0,
          "stage1: output_mse_weight and attention_weight_weight must be >= 0, not both 0");
  require(r.stage1.query_block >= 1, "stage1.query_block must be >= 1");
  check_lora_targets(r.stage2.lora.targets, "recipe stage2.lora.targets");
  require(r.stage2.lora.rank >= 1 && r.stage2.lora.alpha > 0, "stage2.lora: rank >= 1 and alpha > 0");
  require(r.stage2.lora.dropout >= 0 && r.stage2.lora.dropout < 1, "stage2.lora.dropout must be in [0, 1)");
  require(r.stage2.kl_weight >= 0, "stage2.kl_weight must be >= 0");
  require(r.stage2.loss_chunk_tokens >= 0, "stage2.loss_chunk_tokens must be >= 0 (0: no chunks)");
  require(r.stage2.micro_batch_tokens >= 0 && r.stage2.micro_batch_tokens % r.data.sequence_length == 0,
          "stage2.micro_batch_tokens must be a multiple of data.sequence_length (" +
              std::to_string(r.data.sequence_length) + "), whole sequences; 0: data.micro_batch sequences");
  require(!r.ssd.drop_schedule.empty(), "ssd.drop_schedule needs at least one probability");
  for (double p : r.ssd.drop_schedule) require(p >= 0 && p <= 1, "ssd.drop_schedule: probabilities in [0, 1]");
  for (int64_t w : r.ssd.window_schedule) require(w >= 1, "ssd.window_schedule: window sizes >= 1");
  require(!r.ssd.enabled || r.stage2.mode == attention::Mode::Hybrid,
          "ssd needs stage2.mode hybrid (it drops the window branch)");
  require(r.checkpoint_interval >= 1 && r.log_interval >= 1, "checkpoint_interval and log_interval must be >= 1");
}

std::string to_yaml(const Recipe& recipe) {
  Recipe copy = recipe;  // fields_of binds to a mutable recipe
  Fields fields = fields_of(copy);
  return fields_to_yaml(fields);
}

int64_t stage_steps(const StageSettings& stage, const DataSettings& data) {
  if (stage.token_budget > 0) {  // ceil without forming token_budget + tokens_per_step, which can overflow
    return stage.token_budget / data.tokens_per_step + (stage.token_budget % data.tokens_per_step != 0 ? 1 : 0);
  }
  return stage.steps;
}

int64_t micro_batch_sequences(const Recipe& recipe, int stage) {
  const int64_t T = std::max<int64_t>(1, recipe.data.sequence_length);
  const int64_t per_step = std::max<int64_t>(1, recipe.data.tokens_per_step / T);
  const int64_t sequences =
      stage == 2 && recipe.stage2.micro_batch_tokens > 0 ? recipe.stage2.micro_batch_tokens / T : recipe.data.micro_batch;
  return std::max<int64_t>(1, std::min(sequences, per_step));
}

}  // namespace lincat::train
