#include "lincat/eval/evaluate.h"

#include <algorithm>
#include <cmath>

#include "lincat/model/decoder.h"
#include "lincat/util/error.h"

namespace lincat::eval {
namespace {

// Log-likelihood and greediness of every request of `item`, scoring requests with equal contexts
// in one pass.
std::vector<ContinuationScore> score_item(const Scorer& scorer, const Encoder& encode, const TaskItem& item) {
  std::vector<ContinuationScore> scores(item.requests.size());
  std::vector<bool> done(item.requests.size(), false);
  for (size_t i = 0; i < item.requests.size(); ++i) {
    if (done[i]) continue;
    std::vector<size_t> group;
    std::vector<int64_t> context;
    std::vector<std::vector<int64_t>> continuations;
    for (size_t j = i; j < item.requests.size(); ++j) {
      if (done[j] || item.requests[j].context != item.requests[i].context) continue;
      TokenPair pair = encode_pair(encode, item.requests[j].context, item.requests[j].continuation);
      if (pair.continuation.empty()) pair.continuation = encode(item.requests[j].continuation);
      context = std::move(pair.context);
      continuations.push_back(std::move(pair.continuation));
      group.push_back(j);
      done[j] = true;
    }
    const std::vector<ContinuationScore> group_scores = scorer.score(context, continuations);
    for (size_t g = 0; g < group.size(); ++g) scores[group[g]] = group_scores[g];
  }
  return scores;
}

}  // namespace

namespace {

// The task's metrics over `scores` (items in order), named `name`.
TaskResult summarise(const std::string& name, const Task& task, std::vector<ItemScore> scores) {
  std::vector<double> acc, acc_norm, log_likelihoods;
  for (const ItemScore& s : scores) {
    acc.push_back(s.correct ? 1.0 : 0.0);
    acc_norm.push_back(s.correct_normalised ? 1.0 : 0.0);
    log_likelihoods.push_back(s.log_likelihoods.front());
  }
  TaskResult result{name, {}, task.main_metric, static_cast<int64_t>(scores.size()), std::move(scores), {}};
  result.metrics["acc"] = mean_metric(acc);
  if (task.kind == TaskKind::LastWord) {
    // The harness's perplexity: exp of minus the mean per-item log-likelihood (no standard error).
    result.metrics["perplexity"] = Metric{std::exp(-mean_metric(log_likelihoods).value), std::nullopt};
  } else if (std::find(task.metrics.begin(), task.metrics.end(), "acc_norm") != task.metrics.end()) {
    result.metrics["acc_norm"] = mean_metric(acc_norm);
  }
  return result;
}

// The unweighted mean of the subtasks' metrics; its standard error from theirs, the subtasks
// being independent samples: sqrt(sum se_i^2) / n.
std::map<std::string, Metric> mean_of_subtasks(const std::vector<TaskResult>& subtasks) {
  std::map<std::string, Metric> metrics;
  for (const auto& [name, unused] : subtasks.front().metrics) {
    double sum = 0, variance = 0;
    bool has_error = true;
    for (const TaskResult& s : subtasks) {
      const Metric& m = s.metrics.at(name);
      sum += m.value;
      has_error = has_error && m.standard_error.has_value();
      if (m.standard_error) variance += *m.standard_error * *m.standard_error;
    }
    const auto n = static_cast<double>(subtasks.size());
    metrics[name] = Metric{sum / n, has_error ? std::optional<double>(std::sqrt(variance) / n) : std::nullopt};
  }
  return metrics;
}

}  // namespace

TaskResult evaluate_task(const Scorer& scorer, const Encoder& encode, const Task& task, int64_t limit,
                         const ItemProgress& progress) {
  const size_t count = limit > 0 ? std::min(task.items.size(), static_cast<size_t>(limit)) : task.items.size();
  if (count == 0) throw UserError("task '" + task.name + "' has no items");
  std::vector<ItemScore> scores;
  for (size_t i = 0; i < count; ++i) {
    const TaskItem& item = task.items[i];
    ItemScore score;
    for (const ContinuationScore& s : score_item(scorer, encode, item)) {
      score.log_likelihoods.push_back(s.log_likelihood);
      score.greedy.push_back(s.greedy);
    }
    if (task.kind == TaskKind::LastWord) {
      score.correct = score.greedy[0];
    } else {
      const ChoiceJudgement judged = judge_choices(score.log_likelihoods, item.choice_bytes, item.gold);
      score.correct = judged.correct;
      score.correct_normalised = judged.correct_normalised;
    }
    scores.push_back(std::move(score));
    if (progress) progress(static_cast<int64_t>(i + 1), static_cast<int64_t>(count));
  }
  if (task.items.front().subtask.empty()) return summarise(task.name, task, std::move(scores));
  // Subtasks in order of first appearance, each over its own items.
  std::vector<std::string> names;
  std::map<std::string, std::vector<ItemScore>> by_subtask;
  for (size_t i = 0; i < count; ++i) {
    const std::string& name = task.items[i].subtask;
    if (!by_subtask.count(name)) names.push_back(name);
    by_subtask[name].push_back(scores[i]);
  }
  std::vector<TaskResult> subtasks;
  for (const std::string& name : names) subtasks.push_back(summarise(task.name + "_" + name, task, by_subtask[name]));
  TaskResult result{task.name, mean_of_subtasks(subtasks), task.main_metric, static_cast<int64_t>(count),
                    std::move(scores), std::move(subtasks)};
  return result;
}

std::vector<bool> main_metric_correct(const TaskResult& result) {
  std::vector<bool> correct;
  for (const ItemScore& s : result.item_scores) {
    correct.push_back(result.main_metric == "acc_norm" ? s.correct_normalised : s.correct);
  }
  return correct;
}

double task_average(const std::vector<TaskResult>& results) {
  double sum = 0;
  int counted = 0;
  for (const TaskResult& r : results) {
    if (r.main_metric.empty()) continue;
    sum += r.metrics.at(r.main_metric).value;
    ++counted;
  }
  return counted == 0 ? 0 : sum / counted;
}

std::vector<PerplexityWindow> strided_windows(int64_t tokens, int64_t window, int64_t stride) {
  if (window < 2) throw UserError("perplexity window must be at least 2 tokens, found " + std::to_string(window));
  if (stride < 1 || stride > window - 1) {
    throw UserError("perplexity stride must be in 1.." + std::to_string(window - 1) + ", found " +
                    std::to_string(stride));
  }
  std::vector<PerplexityWindow> windows;
  int64_t predicted_until = 1;  // tokens before this one are predicted (or the BOS)
  for (int64_t begin = 0; predicted_until < tokens; begin += stride) {
    PerplexityWindow w;
    w.begin = begin;
    w.end = std::min(begin + window, tokens);
    w.first = std::max(predicted_until, begin + 1);
    windows.push_back(w);
    predicted_until = w.end;
  }
  return windows;
}

std::vector<double> window_bytes(const io::Tokenizer& tokenizer, const std::vector<int64_t>& tokens,
                                 const std::vector<PerplexityWindow>& windows, int64_t text_bytes) {
  const auto decoded_before = [&](int64_t t) {  // bytes of the text the first t tokens decode to
    return static_cast<double>(tokenizer.decode(std::vector<int64_t>(tokens.begin(), tokens.begin() + t), true).size());
  };
  std::vector<double> bytes;
  double total = 0, before = windows.empty() ? 0 : decoded_before(windows.front().first);
  for (const PerplexityWindow& w : windows) {
    const double until = decoded_before(w.end);
    bytes.push_back(std::max(0.0, until - before));
    total += bytes.back();
    before = until;
  }
  if (total <= 0) throw UserError("perplexity: the text's tokens decode to no bytes");
  for (double& b : bytes) b *= static_cast<double>(text_bytes) / total;
  return bytes;
}

PerplexityResult strided_perplexity(const Model& model, attention::Mode mode, const std::vector<int64_t>& tokens,
                                    int64_t bytes, int64_t window, int64_t stride,
                                    const std::vector<bool>& targets, const std::vector<double>& bytes_per_window) {
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n < 2 || bytes < 0) throw UserError("perplexity needs a non-empty text");
  if (!targets.empty() && static_cast<int64_t>(targets.size()) != n) {
    throw UserError("perplexity: " + std::to_string(targets.size()) + " target flags for " + std::to_string(n) + " tokens");
  }
  PerplexityResult result;
  result.windows = strided_windows(n, window, stride);
  if (!bytes_per_window.empty() && bytes_per_window.size() != result.windows.size()) {
    throw UserError("perplexity: bytes for " + std::to_string(bytes_per_window.size()) + " windows, the text has " +
                    std::to_string(result.windows.size()));
  }
  check_token_ids(model, tokens, "text");
  torch::NoGradGuard no_grad;
  const at::Tensor ids = torch::tensor(tokens, torch::kLong);  // [n]
  double nll = 0;
  for (size_t k = 0; k < result.windows.size(); ++k) {
    PerplexityWindow& w = result.windows[k];
    const at::Tensor logits = forward(model, ids.slice(0, w.begin, w.end).view({1, -1}), mode)[0];  // [end - begin, V]
    // Only the rows that predict tokens first..end-1 (a row's log-softmax does not depend on the others),
    // each at its token, copied out at once.
    const at::Tensor picked =  // [end - first]
        logits.slice(0, w.first - 1 - w.begin, w.end - 1 - w.begin)
            .log_softmax(-1)
            .gather(1, ids.slice(0, w.first, w.end).view({-1, 1}).to(logits.device()))
            .view(-1)
            .to(torch::kDouble)
            .cpu()
            .contiguous();
    const auto values = picked.accessor<double, 1>();
    for (int64_t t = w.first; t < w.end; ++t) {
      if (!targets.empty() && !targets[static_cast<size_t>(t)]) continue;
      w.nats -= values[t - w.first];
      ++w.tokens;
    }
    if (!bytes_per_window.empty()) w.bytes = bytes_per_window[k];
    nll += w.nats;
    result.tokens += w.tokens;
  }
  if (result.tokens == 0) throw UserError("perplexity: no token to predict (every label is -100?)");
  result.bytes = bytes;
  result.token_perplexity = std::exp(nll / static_cast<double>(result.tokens));
  result.bits_per_byte = bytes > 0 ? nll / (static_cast<double>(bytes) * std::log(2.0)) : std::nan("");
  result.byte_perplexity = std::pow(2.0, result.bits_per_byte);
  return result;
}

PerplexityText perplexity_text(const io::Tokenizer& tokenizer, const Encoder& encode, const Model& model,
                               const std::string& text, const std::string& source, int64_t window, int64_t stride) {
  if (text.empty()) throw UserError(source + ": empty text");
  PerplexityText prepared;
  prepared.source = source;
  prepared.tokens = encode(text);
  prepared.bytes = static_cast<int64_t>(text.size());
  prepared.window = window > 0 ? window : model.config.max_position_embeddings;
  prepared.stride = stride > 0 ? stride : std::max<int64_t>(1, prepared.window / 2);
  prepared.window_bytes =
      window_bytes(tokenizer, prepared.tokens,
                   strided_windows(static_cast<int64_t>(prepared.tokens.size()), prepared.window, prepared.stride),
                   prepared.bytes);
  return prepared;
}

PerplexityResult text_perplexity(const Model& model, attention::Mode mode, const PerplexityText& text) {
  return strided_perplexity(model, mode, text.tokens, text.bytes, text.window, text.stride, {}, text.window_bytes);
}

}  // namespace lincat::eval
