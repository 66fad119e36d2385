// SSD: the realised drop rate follows the piecewise-constant schedule at every granularity, and
// the learning-rate schedules have their documented shapes.
#include <gtest/gtest.h>

#include <algorithm>

#include "lincat/train/schedules.h"

namespace lincat::train {
namespace {

TEST(TrainSsd, RealisedDropRateFollowsTheSchedule) {
  const std::vector<double> schedule = {0.9, 0.5, 0.1};
  for (SsdGranularity g : {SsdGranularity::Step, SsdGranularity::Layer, SsdGranularity::Head}) {
    const int64_t steps = 3000;
    std::vector<double> dropped(3, 0.0), counted(3, 0.0);
    for (int64_t step = 0; step < steps; ++step) {
      std::mt19937_64 rng = step_generator(11, 2, step);
      const double fraction = static_cast<double>(step) / steps;
      const DropPlan plan = sample_drops(g, phase_value(schedule, fraction), 4, 8, rng);
      const auto phase = static_cast<size_t>(fraction * 3);
      dropped[phase] += drop_rate(plan);
      counted[phase] += 1;
      if (g == SsdGranularity::Step) {
        EXPECT_TRUE(drop_rate(plan) == 0 || drop_rate(plan) == 1);
      }
      if (g == SsdGranularity::Layer) {
        for (const auto& layer : plan) EXPECT_EQ(std::count(layer.begin(), layer.end(), layer[0]), 8);
      }
    }
    for (size_t phase = 0; phase < 3; ++phase) {
      EXPECT_NEAR(dropped[phase] / counted[phase], schedule[phase], 0.04) << "granularity " << static_cast<int>(g);
    }
  }
}

TEST(TrainSsd, StepGeneratorsAreReproducibleAndDistinct) {
  EXPECT_EQ(step_generator(1, 2, 3)(), step_generator(1, 2, 3)());
  EXPECT_NE(step_generator(1, 2, 3)(), step_generator(1, 2, 4)());
  EXPECT_NE(step_generator(1, 2, 3)(), step_generator(2, 2, 3)());
}

TEST(TrainSsd, LearningRateSchedules) {
  OptimiserSettings s;
  s.learning_rate = 1.0;
  s.warmup_steps = 4;
  EXPECT_DOUBLE_EQ(learning_rate_at(s, 0, 100, 1), 0.2);
  EXPECT_DOUBLE_EQ(learning_rate_at(s, 50, 100, 1), 1.0);
  s.schedule = LrSchedule::Cosine;
  EXPECT_NEAR(learning_rate_at(s, 4, 104, 1), 1.0, 1e-12);
  EXPECT_NEAR(learning_rate_at(s, 54, 104, 1), 0.5, 1e-12);
  s.schedule = LrSchedule::Plateau;
  EXPECT_DOUBLE_EQ(learning_rate_at(s, 50, 100, 0.25), 0.25);
}

}  // namespace
}  // namespace lincat::train
