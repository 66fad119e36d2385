// Log-likelihood of continuations given a context, the quantity lm-evaluation-harness's
// loglikelihood requests return. Continuations that share a context are scored with one pass over
// that context: the context is prefilled once and its decode state copied for every continuation.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lincat/attention/modes.h"
#include "lincat/model/model.h"

namespace lincat::eval {

struct ContinuationScore {
  double log_likelihood = 0;  // sum over the continuation's tokens of log p(token | everything before)
  bool greedy = true;         // every continuation token is the model's argmax (lambada's acc)
};

// Tokens one scoring call typically runs (a context of a few dozen tokens, then four
// continuations of a dozen as one batch): what the thread choice of eval and diagnose is sized by.
inline constexpr int64_t kTypicalScoringTokens = 128;

class Scorer {
 public:
  // max_length 0: no truncation. Otherwise contexts are cut from the left so that context plus
  // continuation (minus its last token) fit in max_length tokens, as the harness does.
  Scorer(const Model& model, attention::Mode mode, int64_t max_length);

  // context: at least one token; each continuation: at least one token.
  std::vector<ContinuationScore> score(const std::vector<int64_t>& context,
                                       const std::vector<std::vector<int64_t>>& continuations) const;

  const Model& model() const { return model_; }
  attention::Mode mode() const { return mode_; }

 private:
  const Model& model_;
  attention::Mode mode_;
  int64_t max_length_;
};

// Text to token ids, including any BOS the model expects.
using Encoder = std::function<std::vector<int64_t>(const std::string&)>;

struct TokenPair {
  std::vector<int64_t> context;
  std::vector<int64_t> continuation;
};

// The harness's _encode_pair: trailing whitespace of the context moves to the continuation, and
// the continuation's tokens are those of encode(context + continuation) beyond encode(context).
TokenPair encode_pair(const Encoder& encode, const std::string& context, const std::string& continuation);

}  // namespace lincat::eval
