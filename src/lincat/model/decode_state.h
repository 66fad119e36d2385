// Everything a model remembers about one batch of sequences between forward calls. The model
// itself never changes; generation owns a DecodeState and passes it to every forward.
#pragma once
#include <vector>

#include "lincat/attention/softmax.h"

namespace lincat {

struct LayerDecodeState {
  attention::KVCache softmax;  // used in softmax mode
};

struct DecodeState {
  int64_t position = 0;  // tokens consumed so far; the next token's position
  std::vector<LayerDecodeState> layers;

  explicit DecodeState(int64_t num_layers) : layers(static_cast<size_t>(num_layers)) {}
  int64_t bytes() const;  // memory held by caches and states
};

}  // namespace lincat
