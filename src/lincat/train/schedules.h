// What changes over a stage: the learning rate, and SSD's drop probability and window size
// (piecewise constant over the training fraction), plus SSD's draw of the units that drop.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

#include "lincat/train/recipe.h"

namespace lincat::train {

// Learning rate at `step` (0-based) of `total`: linear warm-up, then the schedule (cosine ends
// at min_learning_rate); `plateau_factor`
// is the reduce-on-plateau multiplier so far (1 for the other schedules).
double learning_rate_at(const OptimiserSettings& settings, int64_t step, int64_t total, double plateau_factor);

// The entry of a piecewise-constant schedule of n values (n equal phases) at fraction t in [0, 1).
template <typename T>
T phase_value(const std::vector<T>& schedule, double fraction) {
  const auto n = static_cast<int64_t>(schedule.size());
  const auto phase = static_cast<int64_t>(fraction * static_cast<double>(n));
  return schedule[static_cast<size_t>(std::min(std::max<int64_t>(phase, 0), n - 1))];
}

// dropped[layer][head]: whether that head's window branch is dropped (it runs in linear mode).
using DropPlan = std::vector<std::vector<bool>>;

// Draws which units drop with probability p: one draw per step (all layers and heads), per layer
// or per head.
DropPlan sample_drops(SsdGranularity granularity, double p, int64_t layers, int64_t heads, std::mt19937_64& rng);

// Share of the heads of all layers that dropped.
double drop_rate(const DropPlan& plan);

// A generator for (seed, stage, step): every random draw of a step depends on these alone, so
// a resumed run draws what the uninterrupted one did.
std::mt19937_64 step_generator(uint64_t seed, int stage, int64_t step);

}  // namespace lincat::train
