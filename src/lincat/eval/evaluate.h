// Scoring whole tasks: every item's requests through a Scorer, then the task's metrics; and the
// perplexity of a text file with a strided window.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "lincat/eval/metrics.h"
#include "lincat/eval/scorer.h"
#include "lincat/eval/task.h"

namespace lincat::eval {

// One item as scored: what lm-evaluation-harness logs per sample (--log-samples) and what paired
// comparisons of two modes on the same items read.
struct ItemScore {
  std::vector<double> log_likelihoods;  // per request (choice)
  std::vector<bool> greedy;             // per request: the continuation is the greedy one
  bool correct = false;                 // acc
  bool correct_normalised = false;      // acc_norm (multiple choice)
};

struct TaskResult {
  std::string task;
  std::map<std::string, Metric> metrics;
  std::string main_metric;  // empty for perplexity results, which are not averaged
  int64_t items = 0;
  std::vector<ItemScore> item_scores;  // per item, in the task's order
  // Tasks made of subtasks (MMLU's 57 subjects): each subject's result; the task's metrics are
  // their unweighted mean, as LoLCATs and the harness's group average report MMLU.
  std::vector<TaskResult> subtasks;
};

// Called after each item: items done, items in all.
using ItemProgress = std::function<void(int64_t done, int64_t total)>;

// The first `limit` items (all when limit <= 0). Requests of an item that share a context are
// scored together. Items with a subtask (MMLU subjects) are also scored per subtask.
TaskResult evaluate_task(const Scorer& scorer, const Encoder& encode, const Task& task, int64_t limit,
                         const ItemProgress& progress = {});

// Per item, whether it is right by the task's main metric (acc or acc_norm).
std::vector<bool> main_metric_correct(const TaskResult& result);

// Mean of the main metrics of the results that have one (0 when none has).
double task_average(const std::vector<TaskResult>& results);

struct PerplexityResult {
  double token_perplexity = 0;  // exp(mean negative log-likelihood per predicted token)
  double bits_per_byte = 0;     // total negative log-likelihood / (bytes * ln 2)
  double byte_perplexity = 0;   // 2^bits_per_byte
  int64_t tokens = 0;           // predicted tokens
  int64_t bytes = 0;
};

// tokens: the text's ids with a leading BOS (never predicted). Windows of `window` tokens start
// every `stride` tokens; each token is predicted once, in the first window that holds it with up
// to window - stride tokens of context before it (Hugging Face's strided perplexity).
// `targets` (empty: all) marks the tokens that count (pre-tokenised data with labels of -100);
// `bytes` 0 (pre-tokenised data: the text is unknown) leaves the per-byte metrics NaN.
PerplexityResult strided_perplexity(const Model& model, attention::Mode mode, const std::vector<int64_t>& tokens,
                                    int64_t bytes, int64_t window, int64_t stride,
                                    const std::vector<bool>& targets = {});

}  // namespace lincat::eval
