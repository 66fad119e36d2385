// How much each layer and head of a converted model uses its linear branch (algorithms.md section
// 8): the linear share of the normaliser and the linear part's share of the output, averaged over
// the positions whose linear set is not empty, in hybrid mode.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "lincat/model/model.h"

namespace lincat::eval {

struct ComponentUsage {
  std::vector<std::vector<double>> linear_share;         // [layer][head]: sum_{L(i)} phi.phi / den_i
  std::vector<std::vector<double>> linear_output_share;  // [layer][head]: ||linear num_i|| / ||num_i||
  double mean_linear_share = 0;                          // over layers and heads
  double mean_linear_output_share = 0;
  int64_t positions = 0;  // positions averaged over, all sequences together
};

// The first position whose linear set is not empty: w + sinks (2w + sinks for the terraced layout).
int64_t first_linear_position(const Model& model);

// sequences: token ids, each longer than first_linear_position. UserError for an original
// (unconverted) model or a sequence too short.
ComponentUsage measure_component_usage(const Model& model, const std::vector<std::vector<int64_t>>& sequences);

}  // namespace lincat::eval
