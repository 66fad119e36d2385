// The settings of `lincat pretrain`: model shape, tokenizer training, data (with synthetic
// long-range documents), optimiser and loop. Read from YAML (a file or the built-in `teacher`),
// overridden by `--set key=value`, written back resolved so that a run can be repeated exactly.
#pragma once
#include <cstdint>
#include <string>

#include "lincat/model/model_config.h"
#include "lincat/train/recipe.h"

namespace lincat::train {

struct PretrainModelSettings {
  int64_t hidden_size = 160;
  int64_t intermediate_size = 448;
  int64_t num_layers = 4;
  int64_t num_heads = 4;
  int64_t num_kv_heads = 2;
  double rope_theta = 10000.0;
  int64_t max_position_embeddings = 512;
  double rms_norm_eps = 1e-5;
  bool tie_word_embeddings = false;
};

struct TokenizerSettings {
  int64_t vocab_size = 4096;
  std::string model_type = "bpe";  // bpe or unigram
  double character_coverage = 1.0;
  bool split_digits = true;   // digits as single tokens: copying numbers becomes learnable
  bool byte_fallback = true;  // unknown characters as UTF-8 bytes instead of <unk>
};

struct PretrainConfig {
  std::string name;
  PretrainModelSettings model;
  TokenizerSettings tokenizer;
  DataSettings data;
  StageSettings training;  // steps, token_budget, optimiser, eval_interval
  uint64_t seed = 0;
  int64_t checkpoint_interval = 100;
  int64_t log_interval = 1;
  // The model written at the end: the one with the best held-out loss (true), or the last (false,
  // for a phase that trades some text loss for a new skill, such as retrieval).
  bool keep_best = true;
  // Passkey and recall accuracy (softmax) at each evaluation, to watch retrieval being learned:
  // `items` per distance and kind (0: off), on items of another seed than the probes' default.
  int64_t probe_items = 0;
  std::vector<int64_t> probe_distances = {64, 256};
};

// The built-in configs: teacher.
const std::vector<std::string>& builtin_pretrain_names();

// A built-in name or a YAML file. UserError naming the file and line for unknown keys and
// values of the wrong type, and listing the built-ins for a name that is neither.
PretrainConfig load_pretrain_config(const std::string& name_or_path);

// Applies "a.b=value"; SettingError naming `set` if malformed or unknown.
void apply_pretrain_override(PretrainConfig& config, const std::string& assignment);

// UserError when settings are out of range or contradict each other (e.g. num_heads not a
// multiple of num_kv_heads).
void validate(const PretrainConfig& config);

// The config as YAML that load_pretrain_config reads back into the same config.
std::string to_yaml(const PretrainConfig& config);

// The Llama config of the model, with the tokenizer's vocabulary size and special ids.
ModelConfig pretrain_model_config(const PretrainConfig& config, int64_t vocab_size, int64_t bos, int64_t eos);

}  // namespace lincat::train
