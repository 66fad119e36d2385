// How much each layer and head of a converted model uses its linear branch (algorithms.md section
// 8): the linear share of the normaliser and the linear part's share of the output, averaged over
// the positions whose linear set is not empty, in the mode the model runs in; with a bootstrap
// 95% interval over sequences, per head, per layer and for the whole model.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "lincat/eval/evaluate.h"
#include "lincat/model/model.h"

namespace lincat::eval {

// A mean over sequences and its percentile bootstrap 95% interval (resampling sequences).
struct Interval {
  double mean = 0, low = 0, high = 0;
};

struct ComponentUsage {
  attention::Mode mode = attention::Mode::Hybrid;        // the mode measured in
  std::vector<std::vector<double>> linear_share;         // [layer][head]: sum_{L(i)} phi.phi / den_i
  std::vector<std::vector<double>> linear_output_share;  // [layer][head]: ||linear num_i|| / ||num_i||
  double mean_linear_share = 0;                          // over layers and heads
  double mean_linear_output_share = 0;
  int64_t positions = 0;  // positions averaged over, all sequences together
  int64_t sequences = 0;
  // Bootstrap intervals over sequences (empty with fewer than 2 sequences).
  std::vector<std::vector<Interval>> linear_share_interval;         // [layer][head]
  std::vector<std::vector<Interval>> linear_output_share_interval;  // [layer][head]
  std::vector<Interval> layer_linear_share;                         // [layer], mean of its heads
  std::vector<Interval> layer_linear_output_share;                  // [layer]
  Interval model_linear_share, model_linear_output_share;           // all layers and heads
};

// A layer whose linear share's upper 95% bound is below this routes (almost) nothing through its
// linear branch: "bypassed", whatever its mean.
constexpr double kBypassedShare = 0.05;

// Per layer: "bypassed" when the upper bound of the linear share is below kBypassedShare, else
// "used"; "unknown" without intervals.
std::vector<std::string> layer_usage_verdicts(const ComponentUsage& usage);

// The first position whose linear set is not empty: w + sinks (2w + sinks for the terraced layout).
int64_t first_linear_position(const Model& model);

// The mode usage is measured in: the model's default mode when it mixes both branches (hybrid,
// overlap), else hybrid.
attention::Mode usage_mode(const Model& model);

// sequences: token ids, each longer than first_linear_position. UserError for an original
// (unconverted) model or a sequence too short. `mode` needs both branches; `bootstrap_samples`
// resamples (seeded by `seed`) give the intervals. `progress` after each sequence.
ComponentUsage measure_component_usage(const Model& model, const std::vector<std::vector<int64_t>>& sequences,
                                       attention::Mode mode = attention::Mode::Hybrid, int bootstrap_samples = 1000,
                                       uint64_t seed = 1234, const ItemProgress& progress = {});

}  // namespace lincat::eval
