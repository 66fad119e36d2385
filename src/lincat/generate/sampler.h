// Picks the next token from logits: greedy (temperature 0) or sampling with temperature, top-k
// and top-p. Reproducible from a seed, on any device (sampling itself runs on the CPU).
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <random>

namespace lincat {

struct SamplingOptions {
  double temperature = 0.0;  // 0 = greedy
  int64_t top_k = 0;         // 0 = no limit
  double top_p = 1.0;        // nucleus mass; 1 = no limit
  uint64_t seed = 0;
};

// Throws UserError naming the flag when an option is out of range.
void validate(const SamplingOptions& options);

class Sampler {
 public:
  explicit Sampler(const SamplingOptions& options);
  int64_t next(const at::Tensor& logits);  // logits [V], any float dtype and device

 private:
  SamplingOptions options_;
  std::mt19937_64 rng_;
};

}  // namespace lincat
