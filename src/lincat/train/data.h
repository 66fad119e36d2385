// Training data: plain text, JSONL with a `text` field, Alpaca-style instruction data (JSON array
// or JSONL of instruction/input/output). Documents are tokenised, joined with BOS/EOS and packed
// into sequences of a fixed length; a share of the sequences is held out for evaluation.
#pragma once
#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

namespace lincat::train {

// One document. `prompt` (Alpaca: the formatted instruction and input) is masked out of the
// stage-2 loss; `text` is learned.
struct Example {
  std::string prompt;
  std::string text;
};

// Reads `path` in `format` (auto, text, jsonl, alpaca; auto decides by extension: .jsonl lines
// with `instruction` are Alpaca, with `text` plain; .json is an Alpaca array; anything else plain
// text). UserError naming the file (and line) for an empty file, invalid JSON or a missing field.
std::vector<Example> read_examples(const std::string& path, const std::string& format);

// The Alpaca prompt for one record (the Stanford Alpaca template; the input section only when
// the input is not empty).
std::string alpaca_prompt(const std::string& instruction, const std::string& input);

struct TokenSequences {
  at::Tensor ids;        // [N, T] int64
  at::Tensor loss_mask;  // [N, T] float32: 1 where the token is a prediction target
  int64_t count() const { return ids.defined() ? ids.size(0) : 0; }
};

using Encoder = std::function<std::vector<int64_t>(const std::string&)>;

// BOS + prompt + text + EOS per example (bos/eos < 0: none), concatenated and cut into sequences
// of `length` tokens; the remainder is dropped. UserError naming `context` if the data do not
// fill one sequence.
TokenSequences pack_examples(const std::vector<Example>& examples, const Encoder& encode, int64_t bos, int64_t eos,
                             int64_t length, const std::string& context);

// The last ceil(fraction * N) sequences (none if fewer than 2 sequences or fraction 0).
struct DataSplit {
  TokenSequences train;
  TokenSequences held_out;
};
DataSplit split_held_out(const TokenSequences& all, double fraction);

}  // namespace lincat::train
