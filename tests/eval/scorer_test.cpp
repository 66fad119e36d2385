// The scorer against a plain full forward: one pass over a shared context must give the same
// log-likelihoods as scoring each context + continuation on its own, in every mode.
#include <gtest/gtest.h>

#include "eval/eval_test_support.h"
#include "lincat/eval/scorer.h"
#include "lincat/model/decoder.h"
#include "support/temp_dir.h"

namespace {

using lincat::attention::Mode;
using Ids = std::vector<int64_t>;

// sum_t log p(continuation[t] | context + continuation[:t]) from one full forward.
double full_forward_log_likelihood(const lincat::Model& model, Mode mode, const Ids& context, const Ids& continuation) {
  Ids whole = context;
  whole.insert(whole.end(), continuation.begin(), continuation.end());
  const at::Tensor log_probs =  // [T, V]
      lincat::forward(model, torch::tensor(whole, torch::kLong).view({1, -1}), mode)[0].log_softmax(-1);
  double sum = 0;
  for (size_t t = 0; t < continuation.size(); ++t) {
    sum += log_probs[static_cast<int64_t>(context.size() + t - 1)][continuation[t]].item<double>();
  }
  return sum;
}

Ids counting(int64_t start, int64_t count) {
  Ids ids;
  for (int64_t i = 0; i < count; ++i) ids.push_back((start + 37 * i) % 512);
  return ids;
}

void expect_matches_full_forward(const lincat::Model& model, Mode mode) {
  const Ids context = counting(3, 21);  // longer than the window (8) of the converted fixture
  const std::vector<Ids> continuations = {counting(100, 1), counting(200, 5), counting(300, 3)};
  const lincat::eval::Scorer scorer(model, mode, 0);
  const auto scores = scorer.score(context, continuations);
  ASSERT_EQ(scores.size(), 3u);
  for (size_t i = 0; i < continuations.size(); ++i) {
    EXPECT_NEAR(scores[i].log_likelihood, full_forward_log_likelihood(model, mode, context, continuations[i]), 1e-3)
        << lincat::attention::mode_name(mode) << " continuation " << i;
  }
}

TEST(EvalScorer, SharedContextMatchesFullForwardSoftmax) {
  expect_matches_full_forward(*lincat::load_model(lincat::test::kLlamaFixture), Mode::Softmax);
}

TEST(EvalScorer, SharedContextMatchesFullForwardInEveryConvertedMode) {
  lincat::test::TempDir dir;
  lincat::test::write_converted_fixture(dir.path(), lincat::test::Branches::Trained);
  const auto model = lincat::load_model(dir.path());
  for (Mode mode : {Mode::Hybrid, Mode::Window, Mode::Linear, Mode::Sinks, Mode::None}) {
    expect_matches_full_forward(*model, mode);
  }
}

TEST(EvalScorer, GreedyMeansEveryTokenIsTheArgmax) {
  const auto model = lincat::load_model(lincat::test::kLlamaFixture);
  const Ids context = counting(5, 10);
  Ids greedy;
  Ids running = context;
  for (int step = 0; step < 3; ++step) {  // the model's own greedy continuation
    const auto logits = lincat::forward(*model, torch::tensor(running, torch::kLong).view({1, -1}), Mode::Softmax);
    greedy.push_back(logits[0][-1].argmax().item<int64_t>());
    running.push_back(greedy.back());
  }
  Ids other = greedy;
  other[1] = (other[1] + 1) % 512;
  const auto scores = lincat::eval::Scorer(*model, Mode::Softmax, 0).score(context, {greedy, other});
  EXPECT_TRUE(scores[0].greedy);
  EXPECT_FALSE(scores[1].greedy);
}

TEST(EvalScorer, LongContextsAreCutFromTheLeft) {
  const auto model = lincat::load_model(lincat::test::kLlamaFixture);
  const Ids context = counting(7, 30), continuation = counting(11, 3);
  // max_length 12: context + continuation[:-1] keeps the last 10 context tokens.
  const auto cut = lincat::eval::Scorer(*model, Mode::Softmax, 12).score(context, {continuation});
  const Ids tail(context.end() - 10, context.end());
  const auto expected = lincat::eval::Scorer(*model, Mode::Softmax, 0).score(tail, {continuation});
  EXPECT_NEAR(cut[0].log_likelihood, expected[0].log_likelihood, 1e-5);
}

TEST(EvalScorer, EncodePairMovesTrailingSpacesToTheContinuation) {
  const lincat::eval::Encoder bytes = [](const std::string& text) {
    Ids ids = {1};  // a BOS, as the model encoder adds
    for (unsigned char c : text) ids.push_back(c);
    return ids;
  };
  const auto pair = lincat::eval::encode_pair(bytes, "Answer: ", "yes");
  EXPECT_EQ(pair.context, (Ids{1, 'A', 'n', 's', 'w', 'e', 'r', ':'}));
  EXPECT_EQ(pair.continuation, (Ids{' ', 'y', 'e', 's'}));
}

}  // namespace
