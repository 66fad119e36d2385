// Everything a model remembers about one batch of sequences between forward calls. The model
// itself never changes; generation owns a DecodeState and passes it to every forward.
#pragma once
#include <vector>

#include "lincat/attention/hybrid_layer_state.h"
#include "lincat/attention/modes.h"
#include "lincat/attention/softmax.h"

namespace lincat {

struct LayerDecodeState {
  attention::KVCache softmax;          // softmax mode: grows with context (bounded by a sliding window)
  attention::HybridLayerState hybrid;  // every other mode: fixed size, set by w and f
};

struct DecodeState {
  attention::Mode mode;  // the mode the state was built for
  int64_t position = 0;  // tokens consumed so far; the next token's position
  std::vector<LayerDecodeState> layers;

  DecodeState(int64_t num_layers, attention::Mode mode) : mode(mode), layers(static_cast<size_t>(num_layers)) {}
  int64_t bytes() const;  // memory held by caches and states
};

}  // namespace lincat
