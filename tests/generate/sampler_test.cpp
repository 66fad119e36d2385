#include "lincat/generate/sampler.h"

#include <gtest/gtest.h>

#include "support/user_error.h"

namespace {

using lincat::Sampler;
using lincat::SamplingOptions;

const at::Tensor kLogits = torch::tensor({1.0f, 3.0f, 2.0f, 0.5f, 2.9f});

TEST(Sampler, TemperatureZeroIsArgmax) {
  Sampler sampler(SamplingOptions{});
  EXPECT_EQ(sampler.next(kLogits), 1);
}

TEST(Sampler, TopKOneAndTinyTopPAreArgmax) {
  Sampler top_k(SamplingOptions{1.0, 1, 1.0, 3});
  Sampler top_p(SamplingOptions{1.0, 0, 1e-6, 3});
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(top_k.next(kLogits), 1);
    EXPECT_EQ(top_p.next(kLogits), 1);
  }
}

TEST(Sampler, TopKTwoOnlyDrawsTheTwoBest) {
  Sampler sampler(SamplingOptions{1.0, 2, 1.0, 11});
  std::map<int64_t, int> counts;
  for (int i = 0; i < 400; ++i) ++counts[sampler.next(kLogits)];
  EXPECT_EQ(counts.size(), 2u);
  EXPECT_GT(counts[1], 150);
  EXPECT_GT(counts[4], 150);  // logits 3.0 vs 2.9: nearly even
}

TEST(Sampler, FrequenciesFollowTheSoftmax) {
  Sampler sampler(SamplingOptions{1.0, 0, 1.0, 5});
  const at::Tensor p = at::softmax(kLogits.to(at::kDouble), 0);
  std::vector<int> counts(5);
  const int n = 20000;
  for (int i = 0; i < n; ++i) ++counts[static_cast<size_t>(sampler.next(kLogits))];
  for (int k = 0; k < 5; ++k) {
    const double expected = p[k].item<double>();
    EXPECT_NEAR(counts[static_cast<size_t>(k)] / double(n), expected, 4 * std::sqrt(expected / n) + 1e-3) << k;
  }
}

TEST(Sampler, SameSeedSameDraws) {
  Sampler a(SamplingOptions{0.8, 0, 0.95, 42}), b(SamplingOptions{0.8, 0, 0.95, 42});
  for (int i = 0; i < 50; ++i) EXPECT_EQ(a.next(kLogits), b.next(kLogits));
}

TEST(Sampler, RefusesOutOfRangeOptions) {
  EXPECT_TRUE(lincat::test::contains(lincat::test::user_error_message([] { Sampler(SamplingOptions{-1.0, 0, 1.0, 0}); }),
                                     "temperature"));
  EXPECT_TRUE(lincat::test::contains(lincat::test::user_error_message([] { Sampler(SamplingOptions{1.0, 0, 1.5, 0}); }),
                                     "top_p"));
}

}  // namespace
