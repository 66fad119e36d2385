#include "lincat/model/model_config.h"

namespace lincat {

int64_t ModelConfig::parameter_count() const {
  const int64_t attention = hidden_size * head_dim * (2 * num_heads + 2 * num_kv_heads);
  const int64_t mlp = 3 * hidden_size * intermediate_size;
  const int64_t per_layer = attention + mlp + 2 * hidden_size;
  const int64_t embeddings = vocab_size * hidden_size * (tie_word_embeddings ? 1 : 2);
  return num_layers * per_layer + embeddings + hidden_size;
}

}  // namespace lincat
