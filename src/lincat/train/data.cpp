#include "lincat/train/data.h"

#include <algorithm>
#include <cmath>

namespace lincat::train {

TokenSequences pack_examples(const std::vector<Example>& examples, const Encoder& encode, int64_t bos, int64_t eos,
                             int64_t length, const std::string& context) {
  PackedTokens packed = pack_tokens(examples, encode, bos, eos, length, context);
  TokenSequences out;
  out.ids = torch::tensor(packed.ids).view({packed.count, packed.length});              // [N, T] int64
  out.loss_mask = torch::tensor(packed.loss_mask).view({packed.count, packed.length});  // [N, T] float32
  return out;
}

DataSplit split_held_out(const TokenSequences& all, double fraction) {
  const int64_t n = all.count();
  const int64_t held = (n < 2 || fraction <= 0) ? 0 : std::min<int64_t>(n - 1, static_cast<int64_t>(std::ceil(fraction * n)));
  DataSplit split;
  split.train = {all.ids.narrow(0, 0, n - held), all.loss_mask.narrow(0, 0, n - held)};
  if (held > 0) split.held_out = {all.ids.narrow(0, n - held, held), all.loss_mask.narrow(0, n - held, held)};
  return split;
}

}  // namespace lincat::train
