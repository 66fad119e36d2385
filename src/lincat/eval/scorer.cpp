#include "lincat/eval/scorer.h"

#include <algorithm>

#include "lincat/model/decoder.h"
#include "lincat/util/error.h"

namespace lincat::eval {
namespace {

// `copies` rows of a batch-1 tensor (undefined stays undefined).
at::Tensor repeat_rows(const at::Tensor& t, int64_t copies) {
  if (!t.defined()) return t;
  std::vector<int64_t> repeats(static_cast<size_t>(t.dim()), 1);
  repeats[0] = copies;
  return t.repeat(repeats);
}

// A batch-1 decode state as `copies` independent rows, one per continuation.
DecodeState repeat_state(const DecodeState& state, int64_t copies) {
  DecodeState repeated = state;
  for (LayerDecodeState& layer : repeated.layers) {
    layer.softmax.keys = repeat_rows(layer.softmax.keys, copies);
    layer.softmax.values = repeat_rows(layer.softmax.values, copies);
    attention::HybridLayerState& h = layer.hybrid;
    h.window_keys = repeat_rows(h.window_keys, copies);
    h.window_values = repeat_rows(h.window_values, copies);
    h.sink_keys = repeat_rows(h.sink_keys, copies);
    h.sink_values = repeat_rows(h.sink_values, copies);
    h.linear_state = repeat_rows(h.linear_state, copies);
    h.linear_normaliser = repeat_rows(h.linear_normaliser, copies);
  }
  return repeated;
}

// Adds the log-probability of `token` to `score`; `best` is the model's argmax at that step.
void add_token(float log_probability, int64_t best, int64_t token, ContinuationScore& score) {
  score.log_likelihood += log_probability;
  score.greedy = score.greedy && best == token;
}

}  // namespace

Scorer::Scorer(const Model& model, attention::Mode mode, int64_t max_length)
    : model_(model), mode_(mode), max_length_(max_length) {
  check_mode(model, mode);
}

std::vector<ContinuationScore> Scorer::score(const std::vector<int64_t>& context,
                                             const std::vector<std::vector<int64_t>>& continuations) const {
  if (context.empty()) throw std::invalid_argument("Scorer::score: empty context");
  size_t longest = 0;
  for (const auto& c : continuations) {
    if (c.empty()) throw std::invalid_argument("Scorer::score: empty continuation");
    longest = std::max(longest, c.size());
  }
  std::vector<int64_t> kept = context;
  if (max_length_ > 0) {
    const int64_t room = max_length_ - static_cast<int64_t>(longest) + 1;
    if (room < 1) {
      throw UserError("a continuation of " + std::to_string(longest) + " tokens does not fit the model's " +
                      std::to_string(max_length_) + "-token limit");
    }
    if (static_cast<int64_t>(kept.size()) > room) kept.erase(kept.begin(), kept.end() - room);
  }
  check_token_ids(model_, kept, "context");
  for (const auto& c : continuations) check_token_ids(model_, c, "continuation");

  torch::NoGradGuard no_grad;
  const int64_t L = model_.config.num_layers, N = static_cast<int64_t>(continuations.size());
  DecodeState state(L, mode_);
  const at::Tensor context_ids = torch::tensor(kept, torch::kLong).view({1, -1});  // [1, Tc]
  const at::Tensor last = forward(model_, context_ids, state)[0][-1].log_softmax(-1).cpu().contiguous();  // [V]
  const auto last_values = last.accessor<float, 1>();
  const int64_t last_best = last.argmax().item<int64_t>();

  std::vector<ContinuationScore> scores(continuations.size());
  for (size_t i = 0; i < continuations.size(); ++i) {
    const int64_t token = continuations[i][0];
    add_token(last_values[token], last_best, token, scores[i]);
  }
  if (longest < 2) return scores;

  // Every continuation but its last token, right-padded (padding comes after what is scored).
  const int64_t steps = static_cast<int64_t>(longest) - 1;
  at::Tensor inputs = torch::zeros({N, steps}, torch::kLong);  // [N, steps]
  auto input_values = inputs.accessor<int64_t, 2>();
  for (int64_t i = 0; i < N; ++i) {
    const auto& c = continuations[static_cast<size_t>(i)];
    for (size_t t = 0; t + 1 < c.size(); ++t) input_values[i][static_cast<int64_t>(t)] = c[t];
  }
  DecodeState branches = repeat_state(state, N);
  const at::Tensor log_probs = forward(model_, inputs, branches).log_softmax(-1).cpu().contiguous();  // [N, steps, V]
  const at::Tensor best = log_probs.argmax(-1);  // [N, steps]
  const auto log_prob_values = log_probs.accessor<float, 3>();
  const auto best_values = best.accessor<int64_t, 2>();
  for (int64_t i = 0; i < N; ++i) {
    const auto& c = continuations[static_cast<size_t>(i)];
    for (size_t t = 1; t < c.size(); ++t) {
      const int64_t step = static_cast<int64_t>(t) - 1;
      add_token(log_prob_values[i][step][c[t]], best_values[i][step], c[t], scores[static_cast<size_t>(i)]);
    }
  }
  return scores;
}

TokenPair encode_pair(const Encoder& encode, const std::string& context, const std::string& continuation) {
  const size_t kept = context.find_last_not_of(" \t\n\r\f\v") + 1;  // npos + 1 == 0: all whitespace
  const std::string moved_context = context.substr(0, kept);
  const std::string moved_continuation = context.substr(kept) + continuation;
  TokenPair pair;
  pair.context = encode(moved_context);
  const std::vector<int64_t> whole = encode(moved_context + moved_continuation);
  const size_t split = std::min(pair.context.size(), whole.size());
  pair.continuation.assign(whole.begin() + static_cast<std::ptrdiff_t>(split), whole.end());
  return pair;
}

}  // namespace lincat::eval
