// Paired comparisons: McNemar's exact p-values against hand-computed binomial tails, intervals
// that hold the difference, and the distinguishable flag; bits per byte as a ratio of sums,
// against the exact bootstrap distribution of a small input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

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

TEST(EvalPaired, IdenticalBitsPerByteDifferByExactlyZero) {
  const std::vector<double> nats = {3.5, 2.25, 7.0, 1.0, 4.5}, bytes = {4, 3, 9, 1, 6};
  const PairedDifference d = paired_bits_per_byte("bits per byte", "a", nats, "b", nats, bytes);
  EXPECT_EQ(d.metric, PairedMetric::BitsPerByte);
  EXPECT_EQ(d.items, 5);
  EXPECT_EQ(d.difference, 0.0);
  EXPECT_EQ(d.low, 0.0);
  EXPECT_EQ(d.high, 0.0);
  EXPECT_FALSE(d.distinguishable);
  EXPECT_TRUE(std::isnan(d.p_value));
  EXPECT_EQ(paired_text(d), "+0.0000 bits/byte [+0.0000, +0.0000]: not distinguishable");
}

TEST(EvalPaired, ShiftedLossGivesItsSignAndAnIntervalAroundIt) {
  // 40 windows of varying loss and length; a loses 0.1 bit per byte more on every window, with
  // noise of +-0.05 bits per byte that averages out.
  std::vector<double> base, worse, bytes;
  for (int i = 0; i < 40; ++i) {
    bytes.push_back(50 + 10 * (i % 7));
    base.push_back(bytes.back() * std::log(2.0) * (1.5 + 0.3 * ((i * 13) % 5)));
    worse.push_back(base.back() + bytes.back() * std::log(2.0) * (0.1 + (i % 2 == 0 ? 0.05 : -0.05)));
  }
  const PairedDifference up = paired_bits_per_byte("t", "worse", worse, "base", base, bytes, 2000, 3);
  EXPECT_GT(up.low, 0.0);
  EXPECT_LT(up.high, 0.2);
  EXPECT_LE(up.low, up.difference);
  EXPECT_GE(up.high, up.difference);
  EXPECT_TRUE(up.distinguishable);
  const PairedDifference down = paired_bits_per_byte("t", "base", base, "worse", worse, bytes, 2000, 3);
  EXPECT_DOUBLE_EQ(down.difference, -up.difference);
  EXPECT_LT(down.high, 0.0);
  EXPECT_TRUE(down.distinguishable);
  EXPECT_NE(paired_text(down).find(": distinguishable"), std::string::npos) << paired_text(down);
  EXPECT_THROW(paired_bits_per_byte("t", "a", base, "b", std::vector<double>(3, 1.0), bytes), UserError);
  EXPECT_THROW(paired_bits_per_byte("t", "a", base, "b", worse, std::vector<double>(40, std::nan(""))), UserError);
}

// Four windows of 1 bit each over 1, 2, 4 and 8 bytes. The difference is the ratio of sums, 4 bits
// over 15 bytes (a mean of per-window ratios would say 0.47). The bootstrap draws one of 4^4
// equally likely index tuples per resample; enumerating them gives the exact distribution of the
// resampled ratio of sums, whose 2.5% and 97.5% points the interval must match (within the
// sampling noise of 20000 resamples: between the exact 1.5% and 3.5% points) and the mean of
// ratios' must not.
TEST(EvalPaired, BitsPerByteResamplesTheRatioOfSums) {
  const double ln2 = std::log(2.0);
  const std::vector<double> a = {ln2, ln2, ln2, ln2}, b = {0, 0, 0, 0}, bytes = {1, 2, 4, 8};
  const PairedDifference d = paired_bits_per_byte("t", "a", a, "b", b, bytes, 20000, 11);
  EXPECT_NEAR(d.difference, 4.0 / 15, 1e-12);
  std::vector<double> ratio_of_sums, mean_of_ratios;
  for (int code = 0; code < 256; ++code) {
    double drawn_bytes = 0, ratios = 0;
    for (int k = 0; k < 4; ++k) {
      const double unit_bytes = bytes[static_cast<size_t>((code >> (2 * k)) & 3)];
      drawn_bytes += unit_bytes;
      ratios += 1 / unit_bytes;
    }
    ratio_of_sums.push_back(4 / drawn_bytes);
    mean_of_ratios.push_back(ratios / 4);
  }
  std::sort(ratio_of_sums.begin(), ratio_of_sums.end());
  std::sort(mean_of_ratios.begin(), mean_of_ratios.end());
  const auto at = [](const std::vector<double>& sorted, double q) { return sorted[static_cast<size_t>(q * 255)]; };
  EXPECT_GE(d.low, at(ratio_of_sums, 0.015) - 1e-12);
  EXPECT_LE(d.low, at(ratio_of_sums, 0.035) + 1e-12);
  EXPECT_GE(d.high, at(ratio_of_sums, 0.965) - 1e-12);
  EXPECT_LE(d.high, at(ratio_of_sums, 0.985) + 1e-12);
  // The test can tell the two statistics apart: their bands do not overlap.
  ASSERT_LT(at(ratio_of_sums, 0.035), at(mean_of_ratios, 0.015));
  EXPECT_TRUE(d.distinguishable);
}

}  // namespace
}  // namespace lincat::eval
