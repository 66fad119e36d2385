#include "lincat/eval/paired.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

#include "lincat/util/error.h"

namespace lincat::eval {

double mcnemar_exact_p(int64_t only_a, int64_t only_b) {
  const int64_t n = only_a + only_b, k = std::min(only_a, only_b);
  if (n == 0) return 1;
  // P(X <= k) for X ~ Binomial(n, 1/2), in logs to stay finite for large n; doubled, capped at 1.
  double tail = 0;
  for (int64_t i = 0; i <= k; ++i) {
    const double log_term = std::lgamma(static_cast<double>(n) + 1) - std::lgamma(static_cast<double>(i) + 1) -
                            std::lgamma(static_cast<double>(n - i) + 1) - static_cast<double>(n) * std::log(2.0);
    tail += std::exp(log_term);
  }
  return std::min(1.0, 2 * tail);
}

PairedDifference paired_difference(const std::string& what, const std::string& a_name, const std::vector<bool>& a,
                                   const std::string& b_name, const std::vector<bool>& b, int samples, uint64_t seed) {
  if (a.size() != b.size() || a.empty()) {
    throw UserError("paired comparison of " + what + ": " + std::to_string(a.size()) + " and " +
                    std::to_string(b.size()) + " items; needs the same, non-empty items");
  }
  PairedDifference d;
  d.what = what;
  d.a = a_name;
  d.b = b_name;
  const auto n = static_cast<int64_t>(a.size());
  d.items = n;
  std::vector<int> delta(a.size());  // per item: +1, 0 or -1
  for (size_t i = 0; i < a.size(); ++i) {
    delta[i] = (a[i] ? 1 : 0) - (b[i] ? 1 : 0);
    d.only_a += delta[i] > 0 ? 1 : 0;
    d.only_b += delta[i] < 0 ? 1 : 0;
  }
  d.difference = static_cast<double>(d.only_a - d.only_b) / static_cast<double>(n);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> pick(0, n - 1);
  std::vector<double> resampled;
  for (int s = 0; s < samples; ++s) {
    int64_t sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += delta[static_cast<size_t>(pick(rng))];
    resampled.push_back(static_cast<double>(sum) / static_cast<double>(n));
  }
  std::sort(resampled.begin(), resampled.end());
  const auto at_fraction = [&](double q) {
    return resampled[static_cast<size_t>(q * static_cast<double>(resampled.size() - 1) + 0.5)];
  };
  d.low = samples > 0 ? at_fraction(0.025) : d.difference;
  d.high = samples > 0 ? at_fraction(0.975) : d.difference;
  d.p_value = mcnemar_exact_p(d.only_a, d.only_b);
  d.distinguishable = d.p_value < 0.05;
  return d;
}

std::string paired_text(const PairedDifference& d) {
  char text[200];
  std::snprintf(text, sizeof text, "%+.1f points [%+.1f, %+.1f], McNemar p = %.3g: %s", 100 * d.difference,
                100 * d.low, 100 * d.high, d.p_value, d.distinguishable ? "distinguishable" : "not distinguishable");
  return text;
}

}  // namespace lincat::eval
