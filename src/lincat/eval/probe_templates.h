// The text of the long-range probes (algorithms.md section 8), in one place: the passkey and
// associative-recall templates that the probes score and that synthetic training documents
// (train/synthetic.h) are rendered with, so that the training text is exactly what is tested.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

#include "lincat/eval/scorer.h"

namespace lincat::eval {

struct ProbeItem {
  std::vector<int64_t> context;
  std::vector<std::vector<int64_t>> choices;
  std::size_t gold = 0;
  int64_t requested_distance = 0;  // the target distance the item was rendered for
  int64_t distance = 0;            // tokens from the fact's first token to the end of the context
};

// Deterministic on every platform: mt19937_64 is fully specified (the std distributions are not).
class ProbeRandom {
 public:
  explicit ProbeRandom(uint64_t seed) : engine_(seed) {}
  int64_t below(int64_t n) { return static_cast<int64_t>(engine_() % static_cast<uint64_t>(n)); }

 private:
  std::mt19937_64 engine_;
};

// One rendered document: its questions (each with its context so far, as the probes score
// them) and the whole text with every answer in place (as training documents show it).
struct RenderedProbe {
  std::vector<ProbeItem> items;
  std::vector<int64_t> answered;
};

// A pass key hidden `target` tokens before the question; `choices` numbers to choose from.
// `start` (BOS or nothing) begins the context; `encode` must not add BOS.
RenderedProbe render_passkey(const Encoder& encode, const std::vector<int64_t>& start, int64_t target, int choices,
                             ProbeRandom& random);

// Name-number pairs, enough of them that the first queried pair sits `target` tokens before its
// question, then up to `queries` (at most 4) questions about the first pairs, each answered
// before the next is asked.
RenderedProbe render_recall(const Encoder& encode, const std::vector<int64_t>& start, int64_t target, int choices,
                            int queries, ProbeRandom& random);

}  // namespace lincat::eval
