// Scoring whole tasks: every item's requests through a Scorer, then the task's metrics; and the
// perplexity of a text file with a strided window.
#pragma once
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "lincat/eval/metrics.h"
#include "lincat/eval/scorer.h"
#include "lincat/eval/task.h"
#include "lincat/io/tokenizer.h"

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

// One window of a strided perplexity: a forward pass over tokens [begin, end) that predicts the
// tokens [first, end) no earlier window predicted. The unit paired comparisons of bits per byte
// resample (each window's share of the text: its nats over its bytes).
struct PerplexityWindow {
  int64_t begin = 0, first = 0, end = 0;
  double nats = 0;     // negative log-likelihood summed over the counted tokens
  int64_t tokens = 0;  // counted (predicted and targeted) tokens
  double bytes = std::numeric_limits<double>::quiet_NaN();  // text bytes of tokens [first, end); NaN when unknown
};

struct PerplexityResult {
  double token_perplexity = 0;  // exp(mean negative log-likelihood per predicted token)
  double bits_per_byte = 0;     // total negative log-likelihood / (bytes * ln 2)
  double byte_perplexity = 0;   // 2^bits_per_byte
  int64_t tokens = 0;           // predicted tokens
  int64_t bytes = 0;
  std::vector<PerplexityWindow> windows;  // in order; their nats add up to the total
};

// The windows of a text of `tokens` ids (a leading BOS, never predicted): `window` tokens starting
// every `stride` tokens, until every token is predicted; each token is predicted once, in the first
// window that holds it, with up to window - stride tokens of context before it (Hugging Face's
// strided perplexity). UserError for a window under 2 tokens or a stride outside 1..window-1.
std::vector<PerplexityWindow> strided_windows(int64_t tokens, int64_t window, int64_t stride);

// The text's bytes of each window's predicted tokens: the growth of the decoded text from the
// window's first token to its end, scaled so that the windows add up to `text_bytes` (decoding
// differs from the text only where the tokenizer normalises it). One decode per window boundary.
std::vector<double> window_bytes(const io::Tokenizer& tokenizer, const std::vector<int64_t>& tokens,
                                 const std::vector<PerplexityWindow>& windows, int64_t text_bytes);

// tokens: the text's ids with a leading BOS (never predicted), scored in strided_windows.
// `targets` (empty: all) marks the tokens that count (pre-tokenised data with labels of -100);
// `bytes` 0 (pre-tokenised data: the text is unknown) leaves the per-byte metrics NaN.
// `bytes_per_window` (window_bytes; empty: unknown) gives each window its bytes.
PerplexityResult strided_perplexity(const Model& model, attention::Mode mode, const std::vector<int64_t>& tokens,
                                    int64_t bytes, int64_t window, int64_t stride,
                                    const std::vector<bool>& targets = {},
                                    const std::vector<double>& bytes_per_window = {});

// A held-out text prepared for strided perplexity: its ids, its bytes, its windows' bytes.
struct PerplexityText {
  std::string source;           // named in reports
  std::vector<int64_t> tokens;  // BOS first when the encoder adds it
  int64_t bytes = 0;
  int64_t window = 0, stride = 0;
  std::vector<double> window_bytes;  // per window of strided_windows(tokens, window, stride)
};

// `text` (non-empty; UserError naming `source` otherwise) through `encode`. Window 0: the model's
// max_position_embeddings; stride 0: half the window.
PerplexityText perplexity_text(const io::Tokenizer& tokenizer, const Encoder& encode, const Model& model,
                               const std::string& text, const std::string& source, int64_t window = 0,
                               int64_t stride = 0);

// strided_perplexity of the prepared text, every window with its bytes.
PerplexityResult text_perplexity(const Model& model, attention::Mode mode, const PerplexityText& text);

}  // namespace lincat::eval
