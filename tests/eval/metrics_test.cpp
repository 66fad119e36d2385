// acc, acc_norm and their standard errors on hand-computed cases.
#include <gtest/gtest.h>

#include "lincat/eval/metrics.h"

namespace {

using lincat::eval::judge_choices;
using lincat::eval::mean_metric;

TEST(EvalMetrics, AccAndAccNormDisagreeWhenLengthsDiffer) {
  // Summed: -10 beats -12. Per byte: -10/5 = -2.0 loses to -12/20 = -0.6.
  const auto judged = judge_choices({-10.0, -12.0}, {5, 20}, 1);
  EXPECT_FALSE(judged.correct);
  EXPECT_TRUE(judged.correct_normalised);
  const auto other = judge_choices({-10.0, -12.0}, {5, 20}, 0);
  EXPECT_TRUE(other.correct);
  EXPECT_FALSE(other.correct_normalised);
}

TEST(EvalMetrics, TiesGoToTheFirstChoiceAsNumpyArgmax) {
  EXPECT_TRUE(judge_choices({-3.0, -3.0, -4.0}, {3, 3, 3}, 0).correct);
  EXPECT_FALSE(judge_choices({-3.0, -3.0, -4.0}, {3, 3, 3}, 1).correct);
  EXPECT_EQ(lincat::eval::first_argmax({1.0, 2.0, 2.0}), 1u);
}

TEST(EvalMetrics, StandardErrorIsSampleStdOverRootN) {
  // mean 0.75; sample variance (3 * 0.0625 + 0.5625) / 3 = 0.25; std 0.5; / sqrt(4) = 0.25.
  const auto metric = mean_metric({1, 0, 1, 1});
  EXPECT_DOUBLE_EQ(metric.value, 0.75);
  ASSERT_TRUE(metric.standard_error.has_value());
  EXPECT_DOUBLE_EQ(*metric.standard_error, 0.25);
  EXPECT_FALSE(mean_metric({1}).standard_error.has_value());
}

TEST(EvalMetrics, MismatchedInputsAreRefused) {
  EXPECT_THROW(judge_choices({-1.0, -2.0}, {1}, 0), std::invalid_argument);
  EXPECT_THROW(judge_choices({-1.0, -2.0}, {1, 1}, 2), std::invalid_argument);
}

}  // namespace
