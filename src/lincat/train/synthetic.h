// Long-range synthetic training documents: passkey and associative-recall items rendered with
// the probes' own templates (eval/probe_templates.h), answers in place, the fact-to-question
// distance drawn from [min_distance, max_distance]. Mixed into the packed training sequences so
// that a model trained from scratch meets dependencies far beyond a sliding window.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "lincat/train/data.h"
#include "lincat/train/recipe.h"

namespace lincat::train {

struct SyntheticDocument {
  std::string kind;              // passkey or associative_recall
  std::vector<int64_t> ids;      // BOS (if any), the document with its answers, EOS (if any)
  int64_t requested_distance = 0;
  int64_t distance = 0;          // tokens from the first fact to the end of its question
  int64_t answer_start = 0;      // index in ids of the first answer's first token
  std::vector<int64_t> answer;   // the first question's answer tokens
  std::vector<std::pair<int64_t, int64_t>> answer_spans;  // [start, end) in ids of every answer
};

// Document `index` of the stream for `seed`: its kind and distance and every draw come from a
// generator of (seed, index) alone, a stream apart from the probes' (which use seed 1234 and
// another derivation). The distance is shortened, if needed, so the document fits `max_tokens`.
SyntheticDocument synthetic_document(const SyntheticSettings& settings, const Encoder& encode, int64_t bos,
                                     int64_t eos, int64_t max_tokens, uint64_t seed, int64_t index);

// Sequences of `length` tokens made of whole synthetic documents; the tail a document does not
// fill is EOS (or 0) padding outside the loss mask. `count` sequences.
TokenSequences synthetic_sequences(const SyntheticSettings& settings, const Encoder& encode, int64_t bos,
                                   int64_t eos, int64_t length, int64_t count, uint64_t seed);

// `train` with synthetic sequences appended so that they make up settings.share of the result
// (none when the share is 0). The batch order shuffles them in with the rest.
TokenSequences mix_synthetic(const TokenSequences& train, const SyntheticSettings& settings, const Encoder& encode,
                             int64_t bos, int64_t eos, uint64_t seed);

}  // namespace lincat::train
