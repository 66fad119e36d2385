#include "lincat/eval/paired.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>

#include "lincat/util/error.h"

namespace lincat::eval {
namespace {

// The percentile 95% interval of `statistic` over `samples` resamples of the n units, each drawn
// with replacement (seeded); `statistic` reads the drawn units' indices. [point, point] without
// samples.
std::pair<double, double> bootstrap_interval(size_t n, int samples, uint64_t seed, double point,
                                             const std::function<double(const std::vector<size_t>&)>& statistic) {
  if (samples <= 0) return {point, point};
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> pick(0, static_cast<int64_t>(n) - 1);
  std::vector<size_t> drawn(n);
  std::vector<double> resampled;
  for (int s = 0; s < samples; ++s) {
    for (size_t i = 0; i < n; ++i) drawn[i] = static_cast<size_t>(pick(rng));
    resampled.push_back(statistic(drawn));
  }
  std::sort(resampled.begin(), resampled.end());
  const auto at_fraction = [&](double q) {
    return resampled[static_cast<size_t>(q * static_cast<double>(resampled.size() - 1) + 0.5)];
  };
  return {at_fraction(0.025), at_fraction(0.975)};
}

void require_same_units(const std::string& what, size_t a, size_t b, const char* units) {
  if (a != b || a == 0) {
    throw UserError("paired comparison of " + what + ": " + std::to_string(a) + " and " + std::to_string(b) + " " +
                    units + "; needs the same, non-empty " + units);
  }
}

}  // namespace

std::string paired_metric_name(PairedMetric metric) {
  return metric == PairedMetric::BitsPerByte ? "bits_per_byte" : "accuracy";
}

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
  require_same_units(what, a.size(), b.size(), "items");
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
  std::tie(d.low, d.high) = bootstrap_interval(a.size(), samples, seed, d.difference, [&](const std::vector<size_t>& drawn) {
    int64_t sum = 0;
    for (size_t i : drawn) sum += delta[i];
    return static_cast<double>(sum) / static_cast<double>(n);
  });
  d.p_value = mcnemar_exact_p(d.only_a, d.only_b);
  d.distinguishable = d.p_value < 0.05;
  return d;
}

PairedDifference paired_bits_per_byte(const std::string& what, const std::string& a_name, const std::vector<double>& a_nats,
                                      const std::string& b_name, const std::vector<double>& b_nats,
                                      const std::vector<double>& bytes, int samples, uint64_t seed) {
  require_same_units(what, a_nats.size(), b_nats.size(), "windows");
  require_same_units(what, a_nats.size(), bytes.size(), "windows");
  double total_bytes = 0;
  for (double x : bytes) {
    if (!(x >= 0) || !std::isfinite(x)) throw UserError("paired comparison of " + what + ": a window's bytes are unknown or negative");
    total_bytes += x;
  }
  if (total_bytes <= 0) throw UserError("paired comparison of " + what + ": the windows hold no text bytes");
  PairedDifference d;
  d.what = what;
  d.a = a_name;
  d.b = b_name;
  d.metric = PairedMetric::BitsPerByte;
  d.items = static_cast<int64_t>(a_nats.size());
  std::vector<double> delta(a_nats.size());  // per window: nats of a minus nats of b
  for (size_t i = 0; i < delta.size(); ++i) delta[i] = a_nats[i] - b_nats[i];
  const double ln2 = std::log(2.0);
  double total_delta = 0;
  for (double x : delta) total_delta += x;
  d.difference = total_delta / (total_bytes * ln2);
  std::tie(d.low, d.high) = bootstrap_interval(delta.size(), samples, seed, d.difference, [&](const std::vector<size_t>& drawn) {
    double nats = 0, drawn_bytes = 0;
    for (size_t i : drawn) {
      nats += delta[i];
      drawn_bytes += bytes[i];
    }
    return drawn_bytes > 0 ? nats / (drawn_bytes * ln2) : 0.0;
  });
  d.p_value = std::nan("");
  d.distinguishable = d.low > 0 || d.high < 0;
  return d;
}

std::string difference_text(const PairedDifference& d) {
  char text[120];
  if (d.metric == PairedMetric::BitsPerByte) {
    std::snprintf(text, sizeof text, "%+.4f bits/byte [%+.4f, %+.4f]", d.difference, d.low, d.high);
  } else {
    std::snprintf(text, sizeof text, "%+.1f points [%+.1f, %+.1f]", 100 * d.difference, 100 * d.low, 100 * d.high);
  }
  return text;
}

std::string paired_text(const PairedDifference& d) {
  char test[48] = "";
  if (d.metric == PairedMetric::Accuracy) std::snprintf(test, sizeof test, ", McNemar p = %.3g", d.p_value);
  return difference_text(d) + test + ": " + (d.distinguishable ? "distinguishable" : "not distinguishable");
}

}  // namespace lincat::eval
