#include "lincat/train/pretrain_config.h"

#include <cmath>
#include <filesystem>

#include "lincat/train/recipe_fields.h"
#include "lincat/util/error.h"

namespace lincat::train {
namespace {

// The teacher of issue 8: ~2.5M parameters, trained on text plus 30% long-range synthetic
// documents whose distances (32..480) reach far beyond the demo's window of 32.
const char* const kTeacher = R"(
name: teacher
model:
  hidden_size: 160
  intermediate_size: 448
  num_layers: 4
  num_heads: 4
  num_kv_heads: 2
  rope_theta: 10000
  max_position_embeddings: 512
  rms_norm_eps: 1.0e-5
  tie_word_embeddings: false
tokenizer: {vocab_size: 4096, model_type: bpe, character_coverage: 1.0, split_digits: true, byte_fallback: true}
data:
  sequence_length: 512
  tokens_per_step: 4096
  micro_batch: 4
  eval_fraction: 0.05
  synthetic: {share: 0.3, kinds: [passkey, associative_recall], min_distance: 32, max_distance: 480}
optimiser:
  learning_rate: 0.003
  min_learning_rate: 0.0003
  weight_decay: 0.1
  schedule: cosine
  warmup_steps: 100
  clip_norm: 1.0
steps: 3000
eval_interval: 100
checkpoint_interval: 100
log_interval: 10
seed: 0
)";

Fields fields_of(PretrainConfig& c) {
  Fields f;
  f["name"] = plain_field(c.name, "a string");
  f["seed"] = plain_field(c.seed, "a non-negative integer");
  f["steps"] = plain_field(c.training.steps, "an integer");
  f["token_budget"] = plain_field(c.training.token_budget, "an integer");
  f["eval_interval"] = plain_field(c.training.eval_interval, "an integer");
  f["checkpoint_interval"] = plain_field(c.checkpoint_interval, "an integer");
  f["log_interval"] = plain_field(c.log_interval, "an integer");
  f["keep_best"] = plain_field(c.keep_best, "true or false");
  f["probes.items"] = plain_field(c.probe_items, "an integer");
  f["probes.distances"] = list_field(c.probe_distances, "integers");
  f["model.hidden_size"] = plain_field(c.model.hidden_size, "an integer");
  f["model.intermediate_size"] = plain_field(c.model.intermediate_size, "an integer");
  f["model.num_layers"] = plain_field(c.model.num_layers, "an integer");
  f["model.num_heads"] = plain_field(c.model.num_heads, "an integer");
  f["model.num_kv_heads"] = plain_field(c.model.num_kv_heads, "an integer");
  f["model.rope_theta"] = plain_field(c.model.rope_theta, "a number");
  f["model.max_position_embeddings"] = plain_field(c.model.max_position_embeddings, "an integer");
  f["model.rms_norm_eps"] = plain_field(c.model.rms_norm_eps, "a number");
  f["model.tie_word_embeddings"] = plain_field(c.model.tie_word_embeddings, "true or false");
  f["tokenizer.vocab_size"] = plain_field(c.tokenizer.vocab_size, "an integer");
  f["tokenizer.model_type"] = plain_field(c.tokenizer.model_type, "a string");
  f["tokenizer.character_coverage"] = plain_field(c.tokenizer.character_coverage, "a number");
  f["tokenizer.split_digits"] = plain_field(c.tokenizer.split_digits, "true or false");
  f["tokenizer.byte_fallback"] = plain_field(c.tokenizer.byte_fallback, "true or false");
  add_data_fields("data.", c.data, f);
  add_optimiser_fields("optimiser.", c.training.optimiser, f);
  return f;
}

void require(bool ok, const std::string& message) {
  if (!ok) throw UserError("pretrain config " + message);
}

}  // namespace

const std::vector<std::string>& builtin_pretrain_names() {
  static const std::vector<std::string> names = {"teacher"};
  return names;
}

PretrainConfig load_pretrain_config(const std::string& name_or_path) {
  PretrainConfig config;
  Fields fields = fields_of(config);
  if (name_or_path == "teacher") {
    apply_yaml_text(kTeacher, "built-in config teacher", fields);
    return config;
  }
  if (!std::filesystem::is_regular_file(name_or_path)) {
    throw UserError("pretraining config " + name_or_path + ": neither a config file nor a built-in config (teacher)");
  }
  config.name = std::filesystem::path(name_or_path).stem().string();
  apply_yaml_file(name_or_path, fields);
  return config;
}

void apply_pretrain_override(PretrainConfig& config, const std::string& assignment) {
  Fields fields = fields_of(config);
  apply_assignment(assignment, fields, "optimiser.learning_rate=0.001");
}

void validate(const PretrainConfig& c) {
  const PretrainModelSettings& m = c.model;
  require(m.hidden_size >= 2 && m.intermediate_size >= 1 && m.num_layers >= 1,
          "model: hidden_size >= 2, intermediate_size >= 1 and num_layers >= 1");
  require(m.num_heads >= 1 && m.num_kv_heads >= 1, "model: num_heads and num_kv_heads must be >= 1");
  require(m.num_heads % m.num_kv_heads == 0, "model.num_heads (" + std::to_string(m.num_heads) +
                                                 ") must be a multiple of model.num_kv_heads (" +
                                                 std::to_string(m.num_kv_heads) + ")");
  require(m.hidden_size % m.num_heads == 0 && (m.hidden_size / m.num_heads) % 2 == 0,
          "model.hidden_size must be num_heads times an even head dimension");
  require(m.rope_theta > 0 && m.rms_norm_eps > 0, "model: rope_theta and rms_norm_eps must be > 0");
  require(m.max_position_embeddings >= c.data.sequence_length,
          "model.max_position_embeddings must be at least data.sequence_length");
  const TokenizerSettings& t = c.tokenizer;
  require(t.vocab_size >= 16, "tokenizer.vocab_size must be >= 16");
  require(t.model_type == "bpe" || t.model_type == "unigram", "tokenizer.model_type must be bpe or unigram");
  require(t.character_coverage > 0 && t.character_coverage <= 1, "tokenizer.character_coverage must be in (0, 1]");
  validate_data(c.data, "pretrain config");
  validate_stage(c.training, "optimiser", "pretrain config");
  require(c.training.steps > 0 || c.training.token_budget > 0, "needs steps or token_budget > 0");
  require(c.checkpoint_interval >= 1 && c.log_interval >= 1, "checkpoint_interval and log_interval must be >= 1");
  require(c.probe_items >= 0, "probes.items must be >= 0");
  for (int64_t d : c.probe_items > 0 ? c.probe_distances : std::vector<int64_t>{}) {
    require(d >= 1 && d < c.model.max_position_embeddings,
            "probes.distances must lie in [1, model.max_position_embeddings)");
  }
}

std::string to_yaml(const PretrainConfig& config) {
  PretrainConfig copy = config;
  Fields fields = fields_of(copy);
  return fields_to_yaml(fields);
}

ModelConfig pretrain_model_config(const PretrainConfig& c, int64_t vocab_size, int64_t bos, int64_t eos) {
  ModelConfig m;
  m.architecture = "LlamaForCausalLM";
  m.vocab_size = vocab_size;
  m.hidden_size = c.model.hidden_size;
  m.intermediate_size = c.model.intermediate_size;
  m.num_layers = c.model.num_layers;
  m.num_heads = c.model.num_heads;
  m.num_kv_heads = c.model.num_kv_heads;
  m.head_dim = c.model.hidden_size / c.model.num_heads;
  m.max_position_embeddings = c.model.max_position_embeddings;
  m.rms_norm_eps = c.model.rms_norm_eps;
  m.rope_theta = c.model.rope_theta;
  m.tie_word_embeddings = c.model.tie_word_embeddings;
  if (bos >= 0) m.bos_token_id = bos;
  if (eos >= 0) m.eos_token_ids = {eos};
  m.torch_dtype = "float32";
  return m;
}

}  // namespace lincat::train
