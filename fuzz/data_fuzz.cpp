// Training data on arbitrary bytes. The first byte picks the format (auto, text, jsonl, alpaca;
// bits 0-1) and the file extension (.txt, .jsonl, .json, none; bits 2-3), the second the sequence
// length (0..255), the third whether BOS and EOS are added (bits 0 and 1); the rest is the file.
// Either a UserError, or documents that pack_tokens, with one token per byte, cuts into exactly
// floor(tokens / length) full sequences whose loss mask is 1 on text and EOS, 0 on BOS and prompt.
#include <cstdlib>
#include <string>
#include <vector>

#include "fuzz/fuzz_support.h"
#include "lincat/train/examples.h"
#include "lincat/util/error.h"

namespace {

std::vector<int64_t> bytes_as_tokens(const std::string& text) {
  std::vector<int64_t> ids;  // ids 2..257; 0 and 1 are BOS and EOS
  for (unsigned char c : text) ids.push_back(int64_t{c} + 2);
  return ids;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  static const char* const kFormats[] = {"auto", "text", "jsonl", "alpaca"};
  static const char* const kExtensions[] = {".txt", ".jsonl", ".json", ""};
  const std::string format = kFormats[data[0] & 3];
  const std::string name = std::string("data") + kExtensions[(data[0] >> 2) & 3];
  const int64_t length = data[1];
  const int64_t bos = (data[2] & 1) ? 0 : -1;
  const int64_t eos = (data[2] & 2) ? 1 : -1;
  const std::string path = lincat::fuzz::write_input(name, data + 3, size - 3);

  std::vector<lincat::train::Example> examples;
  try {
    examples = lincat::train::read_examples(path, format);
  } catch (const lincat::UserError&) {
    return 0;
  }
  if (examples.empty()) std::abort();  // an empty file is refused, never read as no documents
  std::vector<float> expected_mask;  // per token of the whole stream
  for (const lincat::train::Example& example : examples) {
    if (bos >= 0) expected_mask.push_back(0.0f);
    expected_mask.insert(expected_mask.end(), example.prompt.size(), 0.0f);
    expected_mask.insert(expected_mask.end(), example.text.size(), 1.0f);
    if (eos >= 0) expected_mask.push_back(1.0f);
  }
  lincat::train::PackedTokens packed;
  try {
    packed = lincat::train::pack_tokens(examples, bytes_as_tokens, bos, eos, length, "fuzz");
  } catch (const lincat::UserError&) {
    if (length >= 1 && static_cast<int64_t>(expected_mask.size()) >= length) std::abort();  // refused data that fill a sequence
    return 0;
  }
  const int64_t total = static_cast<int64_t>(expected_mask.size());
  if (length < 1 || packed.length != length || packed.count != total / length) std::abort();
  const std::size_t kept = static_cast<std::size_t>(packed.count * length);
  if (packed.ids.size() != kept || packed.loss_mask.size() != kept) std::abort();
  for (std::size_t i = 0; i < kept; ++i) {
    if (packed.loss_mask[i] != expected_mask[i]) std::abort();
    if (packed.ids[i] < 0 || packed.ids[i] > 257) std::abort();
    if (packed.ids[i] == 0 && packed.loss_mask[i] != 0.0f) std::abort();  // BOS is never a target
    if (packed.ids[i] == 1 && packed.loss_mask[i] != 1.0f) std::abort();  // EOS always is
  }
  return 0;
}
