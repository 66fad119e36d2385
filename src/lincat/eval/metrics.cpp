#include "lincat/eval/metrics.h"

#include <cmath>
#include <stdexcept>

namespace lincat::eval {

std::size_t first_argmax(const std::vector<double>& values) {
  if (values.empty()) throw std::invalid_argument("first_argmax of no values");
  std::size_t best = 0;
  for (std::size_t i = 1; i < values.size(); ++i) {
    if (values[i] > values[best]) best = i;
  }
  return best;
}

ChoiceJudgement judge_choices(const std::vector<double>& log_likelihoods, const std::vector<std::size_t>& byte_lengths,
                              std::size_t gold) {
  if (log_likelihoods.size() != byte_lengths.size() || gold >= log_likelihoods.size()) {
    throw std::invalid_argument("judge_choices: choices, lengths and gold disagree");
  }
  std::vector<double> per_byte(log_likelihoods.size());
  for (std::size_t i = 0; i < per_byte.size(); ++i) {
    per_byte[i] = log_likelihoods[i] / static_cast<double>(byte_lengths[i]);
  }
  return {first_argmax(log_likelihoods) == gold, first_argmax(per_byte) == gold};
}

Metric mean_metric(const std::vector<double>& samples) {
  Metric metric;
  const double n = static_cast<double>(samples.size());
  if (samples.empty()) return metric;
  double sum = 0;
  for (double x : samples) sum += x;
  metric.value = sum / n;
  if (samples.size() < 2) return metric;
  double squares = 0;
  for (double x : samples) squares += (x - metric.value) * (x - metric.value);
  metric.standard_error = std::sqrt(squares / (n - 1)) / std::sqrt(n);
  return metric;
}

}  // namespace lincat::eval
