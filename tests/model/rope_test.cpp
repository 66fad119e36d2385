#include "lincat/model/rope.h"

#include <gtest/gtest.h>

#include <cmath>

namespace {

lincat::ModelConfig config_with_head_dim(int64_t d) {
  lincat::ModelConfig c;
  c.head_dim = d;
  c.rope_theta = 500000.0;
  return c;
}

TEST(Rope, InverseFrequenciesFollowTheta) {
  const auto inv = lincat::rope::inverse_frequencies(config_with_head_dim(8));
  ASSERT_EQ(inv.numel(), 4);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(inv[i].item<double>(), std::pow(500000.0, -2.0 * i / 8), 1e-9);
}

// The llama3 rule written out per frequency, independently of the tensor code.
TEST(Rope, Llama3ScalingMatchesThePublishedRule) {
  lincat::ModelConfig c = config_with_head_dim(128);
  c.rope_scaling = lincat::RopeScaling{"llama3", 8.0, 1.0, 4.0, 8192};
  const auto scaled = lincat::rope::inverse_frequencies(c);
  for (int i = 0; i < 64; ++i) {
    const double f = 1.0 / std::pow(500000.0, 2.0 * i / 128);
    const double wavelength = 2 * M_PI / f;
    double expected = f;
    if (wavelength > 8192.0 / 1.0) {
      expected = f / 8.0;
    } else if (wavelength >= 8192.0 / 4.0) {
      const double smooth = (8192.0 / wavelength - 1.0) / (4.0 - 1.0);
      expected = (1 - smooth) * f / 8.0 + smooth * f;
    }
    EXPECT_NEAR(scaled[i].item<double>() / expected, 1.0, 1e-5) << "frequency " << i;
  }
}

TEST(Rope, PositionZeroIsIdentityAndPairsKeepTheirNorm) {
  const auto inv = lincat::rope::inverse_frequencies(config_with_head_dim(8));
  const at::Tensor x = torch::randn({1, 2, 5, 8});
  EXPECT_TRUE(torch::allclose(lincat::rope::apply(x.narrow(2, 0, 1), inv, 0), x.narrow(2, 0, 1)));
  const at::Tensor y = lincat::rope::apply(x, inv, 3);
  // Rotate-half pairs dimension i with i + d/2: each pair's norm is preserved.
  const auto pair_norm = [](const at::Tensor& t) { return t.narrow(3, 0, 4).pow(2) + t.narrow(3, 4, 4).pow(2); };
  EXPECT_TRUE(torch::allclose(pair_norm(x), pair_norm(y), 1e-5, 1e-5));
}

TEST(Rope, ScoresDependOnlyOnRelativePosition) {
  const auto inv = lincat::rope::inverse_frequencies(config_with_head_dim(16));
  const at::Tensor q = torch::randn({1, 1, 1, 16}, torch::kDouble), k = torch::randn({1, 1, 1, 16}, torch::kDouble);
  const auto score = [&](int64_t m, int64_t n) {
    return (lincat::rope::apply(q, inv.to(torch::kDouble), m) * lincat::rope::apply(k, inv.to(torch::kDouble), n))
        .sum()
        .item<double>();
  };
  EXPECT_NEAR(score(7, 3), score(104, 100), 1e-5);
  EXPECT_GT(std::abs(score(7, 3) - score(7, 0)), 1e-6);
}

}  // namespace
