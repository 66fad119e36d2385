#include "lincat/attention/hybrid_layer_state.h"

namespace lincat::attention {

int64_t HybridLayerState::bytes() const {
  int64_t total = 0;
  for (const at::Tensor* buffer : {&window_keys, &window_values, &sink_keys, &sink_values,
                                   &linear_state, &linear_normaliser}) {
    if (buffer->defined()) total += static_cast<int64_t>(buffer->nbytes());
  }
  return total;
}

}  // namespace lincat::attention
