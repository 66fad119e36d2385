// Task metrics from the scorer's log-likelihoods, and strided perplexity against windows computed
// by hand.
#include <gtest/gtest.h>

#include <array>
#include <cmath>

#include "eval/eval_test_support.h"
#include "lincat/eval/evaluate.h"
#include "lincat/eval/task_readers.h"
#include "lincat/model/decoder.h"
#include "lincat/util/error.h"

namespace {

using lincat::attention::Mode;
using Ids = std::vector<int64_t>;

// One token per byte after a BOS (1): every ASCII text fits the fixture's 512-token vocabulary.
const lincat::eval::Encoder kBytes = [](const std::string& text) {
  Ids ids = {1};
  for (unsigned char c : text) ids.push_back(c);
  return ids;
};

// -log p(ids[t] | ids[begin..t)) summed over t in [from, end), from one forward over ids[begin, end).
double window_nll(const lincat::Model& model, const Ids& ids, int64_t begin, int64_t end, int64_t from) {
  const Ids window(ids.begin() + begin, ids.begin() + end);
  const at::Tensor log_probs =  // [end - begin, V]
      lincat::forward(model, torch::tensor(window, torch::kLong).view({1, -1}), Mode::Softmax)[0].log_softmax(-1);
  double nll = 0;
  for (int64_t t = from; t < end; ++t) nll -= log_probs[t - 1 - begin][ids[static_cast<size_t>(t)]].item<double>();
  return nll;
}

TEST(EvalEvaluate, TaskMetricsJudgeTheScorersLogLikelihoods) {
  const auto model = lincat::load_model(lincat::test::kLlamaFixture);
  const lincat::eval::Scorer scorer(*model, Mode::Softmax, 0);
  const auto task = lincat::eval::load_task("arc_easy", lincat::test::kEvalData, 0);
  const auto result = lincat::eval::evaluate_task(scorer, kBytes, task, 0);
  std::vector<double> acc, acc_norm;
  for (const auto& item : task.items) {
    std::vector<double> ll;
    for (const auto& request : item.requests) {
      const auto pair = lincat::eval::encode_pair(kBytes, request.context, request.continuation);
      ll.push_back(scorer.score(pair.context, {pair.continuation})[0].log_likelihood);
    }
    const auto judged = lincat::eval::judge_choices(ll, item.choice_bytes, item.gold);
    acc.push_back(judged.correct);
    acc_norm.push_back(judged.correct_normalised);
  }
  EXPECT_DOUBLE_EQ(result.metrics.at("acc").value, lincat::eval::mean_metric(acc).value);
  EXPECT_DOUBLE_EQ(result.metrics.at("acc_norm").value, lincat::eval::mean_metric(acc_norm).value);
  EXPECT_EQ(result.items, 2);
  EXPECT_EQ(lincat::eval::evaluate_task(scorer, kBytes, task, 1).items, 1);
}

TEST(EvalEvaluate, OneWindowPerplexityIsTheFullForward) {
  const auto model = lincat::load_model(lincat::test::kLlamaFixture);
  const Ids ids = kBytes("It was the best of times.");
  const auto result = lincat::eval::strided_perplexity(*model, Mode::Softmax, ids, 25, 64, 32);
  const double nll = window_nll(*model, ids, 0, static_cast<int64_t>(ids.size()), 1);
  EXPECT_EQ(result.tokens, static_cast<int64_t>(ids.size()) - 1);
  EXPECT_NEAR(result.token_perplexity, std::exp(nll / result.tokens), 1e-3 * result.token_perplexity);
  EXPECT_NEAR(result.bits_per_byte, nll / (25 * std::log(2.0)), 1e-4);
  EXPECT_NEAR(result.byte_perplexity, std::pow(2.0, result.bits_per_byte), 1e-6);
}

TEST(EvalEvaluate, StridedWindowsPredictEachTokenOnce) {
  const auto model = lincat::load_model(lincat::test::kLlamaFixture);
  const Ids ids = kBytes("abcdefgh");  // 9 tokens with the BOS
  // Window 4, stride 2: [0,4) predicts 1..3; [2,6) predicts 4..5; [4,8) 6..7; [6,9) 8.
  const double expected = window_nll(*model, ids, 0, 4, 1) + window_nll(*model, ids, 2, 6, 4) +
                          window_nll(*model, ids, 4, 8, 6) + window_nll(*model, ids, 6, 9, 8);
  const auto result = lincat::eval::strided_perplexity(*model, Mode::Softmax, ids, 8, 4, 2, {}, {1, 2, 3, 2});
  EXPECT_NEAR(result.bits_per_byte, expected / (8 * std::log(2.0)), 1e-4);
  // Each window keeps what it predicted: the unit paired comparisons of bits per byte resample.
  ASSERT_EQ(result.windows.size(), 4u);
  const std::vector<std::array<int64_t, 3>> spans = {{0, 1, 4}, {2, 4, 6}, {4, 6, 8}, {6, 8, 9}};
  for (size_t k = 0; k < spans.size(); ++k) {
    const auto& w = result.windows[k];
    EXPECT_EQ((std::array<int64_t, 3>{w.begin, w.first, w.end}), spans[k]) << k;
    EXPECT_NEAR(w.nats, window_nll(*model, ids, w.begin, w.end, w.first), 1e-4) << k;
    EXPECT_EQ(w.tokens, w.end - w.first);
  }
  EXPECT_EQ(result.windows[2].bytes, 3.0);
  EXPECT_TRUE(std::isnan(lincat::eval::strided_perplexity(*model, Mode::Softmax, ids, 8, 4, 2).windows[0].bytes));
  EXPECT_THROW(lincat::eval::strided_perplexity(*model, Mode::Softmax, ids, 8, 4, 2, {}, {1, 2}), lincat::UserError);
}

// A window's bytes are the text its predicted tokens decode to, and the windows share out the text.
TEST(EvalEvaluate, WindowBytesShareOutTheText) {
  const auto tokenizer = lincat::io::Tokenizer::load(lincat::test::kTinyTokenizer);
  const std::string text = "the quick brown fox jumps over the lazy dog and runs far away into the woods.";
  Ids tokens = {tokenizer->bos_id()};
  for (int64_t id : tokenizer->encode(text)) tokens.push_back(id);
  const auto windows = lincat::eval::strided_windows(static_cast<int64_t>(tokens.size()), 8, 4);
  const std::vector<double> bytes = lincat::eval::window_bytes(*tokenizer, tokens, windows, static_cast<int64_t>(text.size()));
  ASSERT_EQ(bytes.size(), windows.size());
  ASSERT_GT(windows.size(), 3u);
  double total = 0;
  for (size_t k = 0; k < windows.size(); ++k) {
    const std::string piece =
        tokenizer->decode(Ids(tokens.begin() + windows[k].first, tokens.begin() + windows[k].end), true);
    // Decoded alone, a piece loses the space in front of its first word.
    EXPECT_NEAR(bytes[k], static_cast<double>(piece.size()), 1.0 + 1e-9) << k;
    total += bytes[k];
  }
  EXPECT_NEAR(total, static_cast<double>(text.size()), 1e-9);
}

}  // namespace
