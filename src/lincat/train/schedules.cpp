#include "lincat/train/schedules.h"

#include <cmath>

namespace lincat::train {
namespace {

// A uniform draw in [0, 1) from the top 53 bits (the same on every standard library).
double uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

}  // namespace

double learning_rate_at(const OptimiserSettings& s, int64_t step, int64_t total, double plateau_factor) {
  if (step < s.warmup_steps) return s.learning_rate * static_cast<double>(step + 1) / static_cast<double>(s.warmup_steps + 1);
  switch (s.schedule) {
    case LrSchedule::Constant:
      return s.learning_rate;
    case LrSchedule::Plateau:
      return s.learning_rate * plateau_factor;
    case LrSchedule::Cosine: {
      const double span = static_cast<double>(std::max<int64_t>(1, total - s.warmup_steps));
      const double progress = static_cast<double>(step - s.warmup_steps) / span;
      return s.min_learning_rate + (s.learning_rate - s.min_learning_rate) * 0.5 * (1 + std::cos(M_PI * progress));
    }
  }
  return s.learning_rate;
}

DropPlan sample_drops(SsdGranularity granularity, double p, int64_t layers, int64_t heads, std::mt19937_64& rng) {
  DropPlan plan(static_cast<size_t>(layers), std::vector<bool>(static_cast<size_t>(heads), false));
  const bool whole_step = granularity == SsdGranularity::Step && uniform(rng) < p;
  for (auto& layer : plan) {
    const bool whole_layer = granularity == SsdGranularity::Layer && uniform(rng) < p;
    for (size_t h = 0; h < layer.size(); ++h) {
      layer[h] = whole_step || whole_layer || (granularity == SsdGranularity::Head && uniform(rng) < p);
    }
  }
  return plan;
}

double drop_rate(const DropPlan& plan) {
  int64_t dropped = 0, total = 0;
  for (const auto& layer : plan) {
    for (bool d : layer) dropped += d ? 1 : 0;
    total += static_cast<int64_t>(layer.size());
  }
  return total ? static_cast<double>(dropped) / static_cast<double>(total) : 0.0;
}

std::mt19937_64 step_generator(uint64_t seed, int stage, int64_t step) {
  std::seed_seq sequence{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32), static_cast<uint32_t>(stage),
                         static_cast<uint32_t>(step), static_cast<uint32_t>(static_cast<uint64_t>(step) >> 32)};
  return std::mt19937_64(sequence);
}

}  // namespace lincat::train
