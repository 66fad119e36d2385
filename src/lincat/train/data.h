// Training data as tensors: documents (examples.h: read_examples) are tokenised, joined with
// BOS/EOS and packed into sequences of a fixed length; a share of the sequences is held out for
// evaluation.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "lincat/train/examples.h"

namespace lincat::train {

struct TokenSequences {
  at::Tensor ids;        // [N, T] int64
  at::Tensor loss_mask;  // [N, T] float32: 1 where the token is a prediction target
  int64_t count() const { return ids.defined() ? ids.size(0) : 0; }
};

// BOS + prompt + text + EOS per example (bos/eos < 0: none), concatenated and cut into sequences
// of `length` tokens; the remainder is dropped (pack_tokens as tensors). UserError naming
// `context` if the data do not fill one sequence or `length` is below 1.
TokenSequences pack_examples(const std::vector<Example>& examples, const Encoder& encode, int64_t bos, int64_t eos,
                             int64_t length, const std::string& context);

// The last ceil(fraction * N) sequences (none if fewer than 2 sequences or fraction 0).
struct DataSplit {
  TokenSequences train;
  TokenSequences held_out;
};
DataSplit split_held_out(const TokenSequences& all, double fraction);

}  // namespace lincat::train
