#include "lincat/model/model_config.h"

#include <algorithm>
#include <limits>

#include "lincat/util/error.h"
#include "lincat/util/memory.h"

namespace lincat {

// Saturating: each size field may be up to 2^24, so products of three overflow 64 bits; an absurd
// config then reports INT64_MAX parameters and the memory check refuses it.
int64_t ModelConfig::parameter_count() const {
  auto size = [](int64_t field) { return field > 0 ? static_cast<uint64_t>(field) : uint64_t{0}; };
  const uint64_t hidden = size(hidden_size);
  const uint64_t heads = saturating_sum({size(num_heads), size(num_heads), size(num_kv_heads), size(num_kv_heads)});
  const uint64_t attention = saturating_product({hidden, size(head_dim), heads});
  const uint64_t mlp = saturating_product({3, hidden, size(intermediate_size)});
  const uint64_t per_layer = saturating_sum({attention, mlp, saturating_product({2, hidden})});
  const uint64_t embeddings = saturating_product({size(vocab_size), hidden, tie_word_embeddings ? 1u : 2u});
  const uint64_t total = saturating_sum({saturating_product({size(num_layers), per_layer}), embeddings, hidden});
  constexpr uint64_t kMax = std::numeric_limits<int64_t>::max();
  return static_cast<int64_t>(total < kMax ? total : kMax);
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
