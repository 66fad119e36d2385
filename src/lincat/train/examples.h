// Training data without tensors: plain text, JSONL with a `text` field, Alpaca-style instruction
// data (JSON array or JSONL of instruction/input/output) read into documents, and documents
// tokenised and packed into sequences of a fixed length as plain token lists. data.h turns the
// packed lists into tensors; this part is torch-free so that it can be fuzzed.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace lincat::train {

// One document. `prompt` (Alpaca: the formatted instruction and input) is masked out of the
// stage-2 loss; `text` is learned. A pre-tokenised record (JSONL `input_ids`, optional `labels`
// with -100 for tokens that are not targets) has `ids` and `targets` instead, used as they are.
struct Example {
  Example() = default;
  Example(std::string prompt_text, std::string learned_text)
      : prompt(std::move(prompt_text)), text(std::move(learned_text)) {}
  std::string prompt;
  std::string text;
  std::vector<int64_t> ids;
  std::vector<bool> targets;  // one per id
};

// The formats training data is read in; a setting names one (data.format).
enum class DataFormat { Auto, Text, Jsonl, Alpaca };
std::string data_format_name(DataFormat format);
// UserError naming the valid formats for an unknown name.
DataFormat parse_data_format(const std::string& name);

// Reads `path` in `format` (auto, text, jsonl, alpaca; auto decides by extension: .jsonl lines
// with `instruction` are Alpaca, with `input_ids` pre-tokenised, with `text` plain; .json is an
// Alpaca array; anything else plain text). UserError naming the file (and line) for an empty file, invalid JSON or a missing field.
std::vector<Example> read_examples(const std::string& path, const std::string& format);

// The Alpaca prompt for one record (the Stanford Alpaca template; the input section only when
// the input is not empty).
std::string alpaca_prompt(const std::string& instruction, const std::string& input);

using Encoder = std::function<std::vector<int64_t>(const std::string&)>;

// `count` sequences of `length` tokens, row after row.
struct PackedTokens {
  std::vector<int64_t> ids;      // count * length token ids
  std::vector<float> loss_mask;  // count * length: 1 where the token is a prediction target
  int64_t count = 0;
  int64_t length = 0;
};

// BOS + prompt + text + EOS per example (bos/eos < 0: none; a pre-tokenised example: its ids
// alone), concatenated and cut into sequences
// of `length` tokens; the remainder is dropped. UserError naming `context` if the data do not
// fill one sequence or `length` is below 1.
PackedTokens pack_tokens(const std::vector<Example>& examples, const Encoder& encode, int64_t bos, int64_t eos,
                         int64_t length, const std::string& context);

}  // namespace lincat::train
