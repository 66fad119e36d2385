#include "lincat/model/decode_state.h"

namespace lincat {

int64_t DecodeState::bytes() const {
  int64_t total = 0;
  for (const LayerDecodeState& layer : layers) total += layer.softmax.bytes() + layer.hybrid.bytes();
  return total;
}

}  // namespace lincat
