// The multiple-choice metrics of lm-evaluation-harness: acc (argmax of the summed log-likelihood)
// and acc_norm (argmax of the log-likelihood per byte of the choice text), and the standard
// error of a mean as the harness computes it (sample standard deviation / sqrt(n)).
#pragma once
#include <cstddef>
#include <optional>
#include <vector>

namespace lincat::eval {

struct Metric {
  double value = 0;
  std::optional<double> standard_error;  // absent where the harness writes "N/A"
};

// The index of the first maximum, as numpy.argmax (ties go to the earliest choice).
std::size_t first_argmax(const std::vector<double>& values);

struct ChoiceJudgement {
  bool correct = false;             // acc
  bool correct_normalised = false;  // acc_norm
};

// log_likelihoods and byte_lengths have one entry per choice; byte lengths must be > 0.
ChoiceJudgement judge_choices(const std::vector<double>& log_likelihoods, const std::vector<std::size_t>& byte_lengths,
                              std::size_t gold);

// Mean with its standard error (absent for fewer than two samples).
Metric mean_metric(const std::vector<double>& samples);

}  // namespace lincat::eval
