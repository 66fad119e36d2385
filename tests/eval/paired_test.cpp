// Paired comparisons: McNemar's exact p-values against hand-computed binomial tails, intervals
// that hold the difference, and the distinguishable flag.
#include <gtest/gtest.h>

#include "lincat/eval/paired.h"
#include "lincat/util/error.h"

namespace lincat::eval {
namespace {

TEST(EvalPaired, McNemarExactMatchesBinomialTails) {
  EXPECT_DOUBLE_EQ(mcnemar_exact_p(0, 0), 1.0);
  EXPECT_NEAR(mcnemar_exact_p(5, 0), 2.0 / 32, 1e-12);
  EXPECT_NEAR(mcnemar_exact_p(0, 10), 2.0 / 1024, 1e-12);
  EXPECT_NEAR(mcnemar_exact_p(3, 7), 2.0 * (1 + 10 + 45 + 120) / 1024, 1e-12);  // 0.34375
  EXPECT_DOUBLE_EQ(mcnemar_exact_p(4, 4), 1.0);
  EXPECT_LT(mcnemar_exact_p(400, 300), 0.001);  // large n stays finite
}

TEST(EvalPaired, DifferencesIntervalsAndVerdicts) {
  const std::vector<bool> right(20, true), wrong(20, false);
  const PairedDifference all = paired_difference("t", "a", right, "b", wrong);
  EXPECT_DOUBLE_EQ(all.difference, 1.0);
  EXPECT_DOUBLE_EQ(all.low, 1.0);
  EXPECT_EQ(all.only_a, 20);
  EXPECT_TRUE(all.distinguishable);
  const PairedDifference same = paired_difference("t", "a", right, "b", right);
  EXPECT_DOUBLE_EQ(same.difference, 0.0);
  EXPECT_DOUBLE_EQ(same.p_value, 1.0);
  EXPECT_FALSE(same.distinguishable);
  std::vector<bool> mixed(20, false);
  for (int i = 0; i < 12; ++i) mixed[static_cast<size_t>(i)] = true;
  std::vector<bool> other(20, false);
  for (int i = 4; i < 14; ++i) other[static_cast<size_t>(i)] = true;
  const PairedDifference d = paired_difference("t", "a", mixed, "b", other, 2000, 7);
  EXPECT_EQ(d.only_a, 4);
  EXPECT_EQ(d.only_b, 2);
  EXPECT_DOUBLE_EQ(d.difference, 0.1);
  EXPECT_LE(d.low, 0.1);
  EXPECT_GE(d.high, 0.1);
  EXPECT_LT(d.low, 0.0);  // 6 discordant items cannot separate them
  EXPECT_FALSE(d.distinguishable);
  EXPECT_EQ(paired_difference("t", "a", mixed, "b", other, 2000, 7).low, d.low);  // seeded
  EXPECT_NE(paired_text(d).find("not distinguishable"), std::string::npos);
  EXPECT_THROW(paired_difference("t", "a", right, "b", std::vector<bool>(3, true)), UserError);
}

}  // namespace
}  // namespace lincat::eval
