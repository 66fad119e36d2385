// A conversion recipe (docs/algorithms.md section 7): every setting of `lincat convert`, read
// from YAML (a file or a built-in name), overridden by `--set key=value`, and written back out
// resolved so that a run can be repeated exactly.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lincat/attention/modes.h"

namespace lincat::train {

// How the learning rate moves over a stage: constant, cosine decay to zero, or halved when the
// held-out loss stops improving (reduce-on-plateau, evaluated every eval_interval steps).
enum class LrSchedule { Constant, Cosine, Plateau };

struct OptimiserSettings {
  double learning_rate = 1e-2;
  double weight_decay = 0.0;
  LrSchedule schedule = LrSchedule::Constant;
  int64_t warmup_steps = 0;
  double clip_norm = 0.0;  // gradient-norm clipping; 0: off
  double min_learning_rate = 0.0;  // where the cosine schedule ends
};

struct StageSettings {
  int64_t steps = 0;         // 0: the stage is skipped
  int64_t token_budget = 0;  // > 0: steps = ceil(token_budget / tokens_per_step) instead
  OptimiserSettings optimiser;
  int64_t eval_interval = 0;            // steps between held-out evaluations; 0: none
  int64_t early_stopping_patience = 0;  // evaluations without improvement before stopping; 0: never
};

struct Stage1Settings : StageSettings {
  // The mode the student's attention takes in the transfer: hybrid (LoLCATs) or linear (the
  // linear branch alone over every causal key, as Hedgehog and HedgeCATs transfer).
  attention::Mode mode = attention::Mode::Hybrid;
  double output_mse_weight = 1.0;        // weight of 1000 * MSE(y_student, y_teacher)
  double attention_weight_weight = 0.0;  // weight of the soft cross-entropy on attention weights
  int64_t query_block = 256;             // query rows per block of the attention-weight loss
};

struct LoraSettings {
  std::vector<std::string> targets = {"q_proj", "k_proj", "v_proj", "o_proj"};
  int64_t rank = 8;
  double alpha = 16;
  double dropout = 0.0;
};

struct Stage2Settings : StageSettings {
  attention::Mode mode = attention::Mode::Hybrid;  // the mode the student fine-tunes in: hybrid or linear
  LoraSettings lora;
  bool train_feature_maps = false;  // phi and theta also train in stage 2
  double kl_weight = 0.0;           // weight of KL(teacher || student) on next-token distributions
  // Tokens of one forward pass in stage 2, whole sequences (a multiple of data.sequence_length),
  // gradients accumulated over a step's micro-batches; 0: data.micro_batch sequences, as stage 1.
  int64_t micro_batch_tokens = 0;
  // Positions whose [positions x vocabulary] logits exist at once in the next-token loss and KL
  // (the same loss and gradients, bounded memory); 0: all of a micro-batch's at once.
  int64_t loss_chunk_tokens = 1024;
  // Keep only each layer's input through the forward and recompute the layer in backward (the
  // same gradients; activations of one layer instead of all).
  bool gradient_checkpointing = false;
};

enum class SsdGranularity { Step, Layer, Head };

// Scheduled Sliding-window Dropout: during stage 2, with probability p(t) a unit (the whole
// step, a layer or a head) runs in linear mode. Schedules are piecewise constant over the
// training fraction t in [0, 1): n values cover n equal phases.
struct SsdSettings {
  bool enabled = false;
  SsdGranularity granularity = SsdGranularity::Layer;
  std::vector<double> drop_schedule = {0.9, 0.75, 0.5};
  std::vector<int64_t> window_schedule;  // empty: the attention window throughout
};

// The kinds of synthetic document; a setting names them (data.synthetic.kinds).
enum class SyntheticKind { Passkey, AssociativeRecall, Copy };
std::string synthetic_kind_name(SyntheticKind kind);
// UserError "unknown kind '<name>'; valid: ..." for an unknown name.
SyntheticKind parse_synthetic_kind(const std::string& name);

// Long-range synthetic documents (train/synthetic.h) mixed into the training sequences: passkey
// and associative-recall items rendered with the probes' templates, the answer appended.
struct SyntheticSettings {
  double share = 0.0;  // fraction of the training sequences that are synthetic; 0: none
  std::vector<std::string> kinds = {"passkey", "associative_recall"};
  int64_t min_distance = 32;   // tokens from the fact to the question, drawn uniformly
  int64_t max_distance = 480;
  bool answers_only = false;   // only the answers are prediction targets, not the facts and filler
};

struct DataSettings {
  int64_t sequence_length = 1024;
  int64_t tokens_per_step = 8192;  // sequences per step = tokens_per_step / sequence_length
  int64_t micro_batch = 1;         // sequences per forward pass (gradient accumulation in between)
  double eval_fraction = 0.05;     // held-out share of the packed sequences
  std::string format = "auto";     // auto, text, jsonl or alpaca
  std::string cache_dir;           // empty: $LINCAT_CACHE_DIR or ~/.cache/lincat
  SyntheticSettings synthetic;
};

struct Recipe {
  std::string name;
  attention::HybridConfig attention;
  // true: attention.feature_dim is set to the model's head_dim when the conversion starts, so a
  // Hedgehog map is square (head_dim -> head_dim) and phi has 2 * head_dim features, as in
  // Hedgehog and HedgeCATs. (Older recipes' attention.train_mode sets stage1.mode and stage2.mode.)
  bool square_feature_map = false;
  attention::Mode default_mode = attention::Mode::Hybrid;  // mode the converted model runs in
  DataSettings data;
  Stage1Settings stage1;
  Stage2Settings stage2;
  SsdSettings ssd;
  uint64_t seed = 0;
  int64_t checkpoint_interval = 50;  // steps between checkpoints
  int64_t log_interval = 1;          // steps between training-log lines
};

// The built-in recipes: lolcats, hedgecats, ssd, linear.
const std::vector<std::string>& builtin_recipe_names();

// A built-in name or a YAML file. UserError naming the file and line for unknown keys and
// values of the wrong type, and listing the built-ins for a name that is neither.
Recipe load_recipe(const std::string& name_or_path);

// Applies "a.b.c=value" (value parsed as YAML). SettingError naming `set` if malformed, the key if its value is invalid.
void apply_override(Recipe& recipe, const std::string& assignment);

// Throws UserError when settings contradict each other or are out of range.
void validate(const Recipe& recipe);

// The recipe as YAML that load_recipe reads back into the same recipe.
std::string to_yaml(const Recipe& recipe);

// Throws UserError (prefixed with `context`, keys with `name`) when stage settings are out of range.
void validate_stage(const StageSettings& stage, const std::string& name, const std::string& context);
// Throws UserError (prefixed with `context`) when data settings are out of range.
void validate_data(const DataSettings& data, const std::string& context);

// Steps a stage runs: its token budget divided by tokens per step when set, else its steps.
int64_t stage_steps(const StageSettings& stage, const DataSettings& data);

// Sequences per forward pass in stage `stage` (1 or 2): stage2.micro_batch_tokens /
// data.sequence_length in stage 2 when set, else data.micro_batch; at most a step's sequences.
int64_t micro_batch_sequences(const Recipe& recipe, int stage);

// Changes to a loaded recipe: "key=value" assignments (as apply_override), then step counts that
// replace a stage's steps and token budget.
struct RecipeOverrides {
  std::vector<std::string> assignments;
  std::optional<int64_t> stage1_steps;
  std::optional<int64_t> stage2_steps;
};
void apply_overrides(Recipe& recipe, const RecipeOverrides& overrides);

}  // namespace lincat::train
