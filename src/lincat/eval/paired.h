// Paired comparisons of two systems (two modes, or two conversions) on the same units, with a
// paired bootstrap 95% interval of the difference:
// - accuracy on the same items, with McNemar's exact test on the items where they disagree;
//   distinguishable: McNemar's two-sided p below 0.05;
// - bits per byte of the same text, per scored window (the unit the strided perplexity scores);
//   distinguishable: the interval excludes 0.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace lincat::eval {

enum class PairedMetric { Accuracy, BitsPerByte };
std::string paired_metric_name(PairedMetric metric);  // "accuracy", "bits_per_byte"

struct PairedDifference {
  std::string what;  // the items: a task, a probe and its distances, or "bits per byte"
  std::string a, b;  // the systems, a - b
  PairedMetric metric = PairedMetric::Accuracy;
  int64_t items = 0;  // items; for bits per byte, the text's scored windows
  double difference = 0;  // accuracy (bits per byte) of a minus that of b
  double low = 0, high = 0;  // paired bootstrap 95% interval of the difference
  int64_t only_a = 0, only_b = 0;  // accuracy: items only a (only b) gets right
  double p_value = 1;  // accuracy: McNemar's exact two-sided test; bits per byte: none (NaN)
  bool distinguishable = false;
};

// Two-sided exact McNemar p-value: the binomial(only_a + only_b, 1/2) probability of a split at
// least as uneven as the one seen (1 when the systems never disagree).
double mcnemar_exact_p(int64_t only_a, int64_t only_b);

// a and b: per item, whether each system is right (same items, same order; UserError otherwise).
PairedDifference paired_difference(const std::string& what, const std::string& a_name, const std::vector<bool>& a,
                                   const std::string& b_name, const std::vector<bool>& b, int samples = 2000,
                                   uint64_t seed = 1234);

// Per unit (a window of a text): the nats each system loses on it and the text bytes it predicts
// (same units, same order; UserError otherwise). The difference is
// (sum a_nats - sum b_nats) / (sum bytes * ln 2), and each resample recomputes it from the drawn
// units' sums: bits per byte is a ratio of sums, so a unit weighs by its bytes (a mean of
// per-unit ratios would give a short window's noise the weight of a long one's).
PairedDifference paired_bits_per_byte(const std::string& what, const std::string& a_name, const std::vector<double>& a_nats,
                                      const std::string& b_name, const std::vector<double>& b_nats,
                                      const std::vector<double>& bytes, int samples = 2000, uint64_t seed = 1234);

// The difference and its interval in the metric's unit: "+3.1 points [-1.2, +7.5]" or
// "+0.012 bits/byte [-0.003, +0.020]".
std::string difference_text(const PairedDifference& d);

// The difference, its test and the verdict: "+3.1 points [-1.2, +7.5], McNemar p = 0.21: not
// distinguishable", "+0.012 bits/byte [+0.004, +0.020]: distinguishable".
std::string paired_text(const PairedDifference& d);

}  // namespace lincat::eval
