// The component diagnostics (algorithms.md section 8, after arXiv 2510.05901): a converted model
// scored in every mode on the same tasks and long-range probes, the base model in softmax,
// recovered performance, per layer and head linear usage, and a plain verdict.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lincat/eval/component_usage.h"
#include "lincat/eval/evaluate.h"
#include "lincat/eval/paired.h"
#include "lincat/eval/probes.h"
#include "lincat/eval/text_encoder.h"
#include "lincat/io/tokenizer.h"

namespace lincat::eval {

struct ModeScores {
  std::string name;  // "base" or a mode name
  std::vector<TaskResult> tasks;
  double task_average = 0;
  std::optional<double> recovered;                            // task average / base's x 100
  std::map<std::string, std::vector<ProbePoint>> probes;      // probe name -> accuracy per distance
  double beyond_window_probe_accuracy = 0;                    // mean over probe points at distance > w
  std::optional<PerplexityResult> perplexity;                 // on the held-out text, when one is given
};

enum class VerdictKind { LinearUsed, Collapsed, LinearOnly };
std::string verdict_kind_name(VerdictKind kind);  // "used", "collapsed", "linear_only"

struct Verdict {
  VerdictKind kind = VerdictKind::LinearUsed;
  std::string line;  // one sentence with the numbers behind it
};

struct DiagnoseReport {
  std::string model;
  std::string base;
  int64_t window = 0;
  attention::Mode default_mode = attention::Mode::Hybrid;  // the mode the model runs in (its config)
  AddBos add_bos = AddBos::Auto;  // --add-bos, as eval's results record it
  bool bos_added = false;         // whether it put a BOS in front of the task and perplexity texts
  // The held-out text scored for bits per byte in every mode ("" when none), and its windows.
  std::string perplexity_source;
  int64_t perplexity_window = 0, perplexity_stride = 0;
  std::vector<ModeScores> modes;  // base first, then hybrid, window, linear, sinks, none, overlap
  ComponentUsage usage;           // measured in usage_mode(model)
  std::string usage_source;       // what the usage was measured on
  // Task items scored, and those short enough (context + continuation <= w tokens) that the
  // linear branch never takes part: they cannot show whether it is used.
  int64_t task_items = 0;
  int64_t task_items_within_window = 0;
  Verdict verdict;
  ProbeSettings probe_settings;
  // The farthest a token's information can travel through window attention alone: each of the L
  // layers moves it at most w - 1 positions, L * (w - 1) in all. Probe distances beyond it cannot
  // be answered by any window-only path.
  int64_t window_reach = 0;
  // Paired differences on the same items: hybrid - window, linear - none, hybrid - base, per task,
  // in bits per byte on the same windows of the held-out text, and for the probe items beyond w
  // and beyond the window reach.
  std::vector<PairedDifference> paired;
};

// The mode pairs diagnose compares item by item: {a, b} for a - b.
const std::vector<std::pair<std::string, std::string>>& paired_mode_comparisons();

// The comparisons of `a` against `b` (two ModeScores on the same tasks, text and probe items): per
// task by its main metric, then bits per byte window by window (when both scored the text), then
// per probe pooled over distances > w and over distances > reach.
std::vector<PairedDifference> compare_paired(const ModeScores& a, const ModeScores& b, int64_t window, int64_t reach,
                                             const std::string& a_name, const std::string& b_name);

struct DiagnoseSettings {
  std::vector<Task> tasks;
  int64_t limit = 0;
  int probe_items = 8;
  uint64_t seed = 1234;
  // Probe distances above this are left out (0: none are): a model trained on short sequences
  // cannot answer from positions it never saw, in any mode, which would only add chance-level points.
  int64_t max_probe_distance = 0;
  AddBos add_bos = AddBos::Auto;  // BOS in front of task texts (--add-bos)
  // Held-out prose for the usage measurement (text_sequences); empty: 2 synthetic passkey
  // contexts of 4w tokens, which give no interval.
  std::vector<std::vector<int64_t>> usage_sequences;
  std::string usage_source;  // named in the report, e.g. "64 sequences of 128 tokens from FILE"
  // Held-out text scored for bits per byte in every mode, window by window (perplexity_text);
  // none: no bits per byte.
  std::optional<PerplexityText> perplexity;
  // The base's scores from an earlier diagnosis with these settings and the same window (the demo
  // diagnoses several conversions of one teacher); none: the base is scored.
  std::optional<ModeScores> base_scores;
  // Progress per task, probe and mode ("piqa@hybrid", "passkey@window") and of the usage pass
  // ("usage@hybrid"); empty: none.
  std::function<ItemProgress(const std::string& label)> progress;
};

// `count` sequences of `length` tokens cut one after another from `tokens` (an encoded text
// without BOS), each with `bos` (>= 0) in front in place of its first token. UserError naming
// `source` when the text is too short.
std::vector<std::vector<int64_t>> text_sequences(const std::vector<int64_t>& tokens, int64_t bos, int64_t length,
                                                 int64_t count, const std::string& source);

// A linear share below this means the linear branch is not used; above 1 - this, the window is.
constexpr double kCollapseShare = 0.05;

// The base's scores (softmax, named "base") on the tasks, bits-per-byte text and probes that
// `diagnose` gives a converted model of window `window`: what DiagnoseSettings::base_scores takes.
ModeScores score_base(const Model& base, const io::Tokenizer& tokenizer, const DiagnoseSettings& settings, int64_t window);

// `model` must be converted; `base` is run in softmax. Both share `tokenizer`.
DiagnoseReport diagnose(const Model& model, const std::string& model_name, const Model& base,
                        const std::string& base_name, const io::Tokenizer& tokenizer,
                        const DiagnoseSettings& settings);

// The verdict from the usage and the per-mode scores (modes named as in DiagnoseReport::modes).
Verdict judge_usage(const ComponentUsage& usage, const std::vector<ModeScores>& modes);

}  // namespace lincat::eval
