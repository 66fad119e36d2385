#include "lincat/model/model_config.h"

#include <algorithm>

#include "lincat/util/error.h"

namespace lincat {

int64_t ModelConfig::parameter_count() const {
  const int64_t attention = hidden_size * head_dim * (2 * num_heads + 2 * num_kv_heads);
  const int64_t mlp = 3 * hidden_size * intermediate_size;
  const int64_t per_layer = attention + mlp + 2 * hidden_size;
  const int64_t embeddings = vocab_size * hidden_size * (tie_word_embeddings ? 1 : 2);
  return num_layers * per_layer + embeddings + hidden_size;
}

const std::vector<std::string>& lora_target_names() {
  static const std::vector<std::string> names = {"q_proj", "k_proj", "v_proj", "o_proj",
                                                 "gate_proj", "up_proj", "down_proj"};
  return names;
}

void check_lora_targets(const std::vector<std::string>& targets, const std::string& context) {
  const auto& names = lora_target_names();
  if (targets.empty()) throw UserError(context + ": LoRA needs at least one target projection");
  for (const std::string& target : targets) {
    if (std::find(names.begin(), names.end(), target) == names.end()) {
      throw UserError(context + ": unknown LoRA target '" + target +
                      "' (expected q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj or down_proj)");
    }
  }
  for (size_t i = 0; i < targets.size(); ++i) {
    if (std::find(targets.begin() + static_cast<std::ptrdiff_t>(i) + 1, targets.end(), targets[i]) != targets.end()) {
      throw UserError(context + ": LoRA target '" + targets[i] + "' is listed twice");
    }
  }
}

}  // namespace lincat
