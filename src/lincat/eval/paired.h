// Paired comparisons of two systems (two modes, or two conversions) on the same items: the
// difference in accuracy with a paired bootstrap 95% interval and McNemar's exact test on the
// items where they disagree. Distinguishable: McNemar's two-sided p below 0.05.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace lincat::eval {

struct PairedDifference {
  std::string what;  // the items: a task, or a probe and its distances
  std::string a, b;  // the systems, a - b
  int64_t items = 0;
  double difference = 0;  // accuracy of a minus accuracy of b
  double low = 0, high = 0;  // paired bootstrap 95% interval of the difference
  int64_t only_a = 0, only_b = 0;  // items only a (only b) gets right
  double p_value = 1;  // McNemar's exact two-sided test
  bool distinguishable = false;
};

// Two-sided exact McNemar p-value: the binomial(only_a + only_b, 1/2) probability of a split at
// least as uneven as the one seen (1 when the systems never disagree).
double mcnemar_exact_p(int64_t only_a, int64_t only_b);

// a and b: per item, whether each system is right (same items, same order; UserError otherwise).
PairedDifference paired_difference(const std::string& what, const std::string& a_name, const std::vector<bool>& a,
                                   const std::string& b_name, const std::vector<bool>& b, int samples = 2000,
                                   uint64_t seed = 1234);

// "+3.1 points [−1.2, +7.5], p = 0.21: not distinguishable" (percentage points).
std::string paired_text(const PairedDifference& d);

}  // namespace lincat::eval
