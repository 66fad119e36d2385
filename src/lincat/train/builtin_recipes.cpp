#include "lincat/train/builtin_recipes.h"

namespace lincat::train {
namespace {

// LoLCATs: hybrid attention, output-MSE transfer, then LoRA on q, k, v, o.
const char* const kLolcats = R"(
name: lolcats
attention: {default_mode: hybrid, window: 64, feature_map: hedgehog, feature_dim: 64}
stage1:
  mode: hybrid
  token_budget: 10000000
  learning_rate: 0.01
  output_mse_weight: 1.0
  attention_weight_weight: 0.0
  eval_interval: 100
  early_stopping_patience: 5
stage2:
  mode: hybrid
  token_budget: 10000000
  learning_rate: 0.0001
  clip_norm: 1.0
  eval_interval: 100
  lora: {targets: [q_proj, k_proj, v_proj, o_proj], rank: 8, alpha: 16, dropout: 0.0}
)";

// HedgeCATs (arXiv 2510.05901): Hedgehog's attention-weight transfer with the linear branch
// alone (linear mode: cross-entropy against the teacher's full causal attention) and a square
// Hedgehog map (2 * head_dim features), then a short hybrid LoRA fine-tune that stops early.
const char* const kHedgecats = R"(
name: hedgecats
attention: {default_mode: hybrid, window: 64, feature_map: hedgehog, feature_dim: 64, square_feature_map: true}
stage1:
  mode: linear
  token_budget: 10000000
  learning_rate: 0.01
  output_mse_weight: 0.0
  attention_weight_weight: 1.0
  eval_interval: 100
  early_stopping_patience: 5
stage2:
  mode: hybrid
  token_budget: 2000000
  learning_rate: 0.0001
  clip_norm: 1.0
  eval_interval: 25
  early_stopping_patience: 3
  lora: {targets: [q_proj, k_proj, v_proj, o_proj], rank: 8, alpha: 16, dropout: 0.0}
)";

// As lolcats, with Scheduled Sliding-window Dropout during stage 2.
const char* const kSsd = R"(
name: ssd
attention: {default_mode: hybrid, window: 64, feature_map: hedgehog, feature_dim: 64}
stage1:
  mode: hybrid
  token_budget: 10000000
  learning_rate: 0.01
  output_mse_weight: 1.0
  eval_interval: 100
  early_stopping_patience: 5
stage2:
  mode: hybrid
  token_budget: 10000000
  learning_rate: 0.0001
  clip_norm: 1.0
  eval_interval: 100
  lora: {targets: [q_proj, k_proj, v_proj, o_proj], rank: 8, alpha: 16, dropout: 0.0}
ssd: {enabled: true, granularity: layer, drop_schedule: [0.9, 0.75, 0.5]}
)";

// Linear-only conversion, then inference-time hybridisation: the model is trained in `linear`
// mode and saved to run in `hybrid` mode.
const char* const kLinear = R"(
name: linear
attention: {default_mode: hybrid, window: 64, feature_map: hedgehog, feature_dim: 64}
stage1:
  mode: linear
  token_budget: 10000000
  learning_rate: 0.01
  output_mse_weight: 1.0
  eval_interval: 100
  early_stopping_patience: 5
stage2:
  mode: linear
  token_budget: 10000000
  learning_rate: 0.0001
  clip_norm: 1.0
  eval_interval: 100
  lora: {targets: [q_proj, k_proj, v_proj, o_proj], rank: 8, alpha: 16, dropout: 0.0}
)";

}  // namespace

std::string builtin_recipe_yaml(const std::string& name) {
  if (name == "lolcats") return kLolcats;
  if (name == "hedgecats") return kHedgecats;
  if (name == "ssd") return kSsd;
  if (name == "linear") return kLinear;
  return "";
}

}  // namespace lincat::train
