#include "lincat/generate/sampler.h"

#include "lincat/util/error.h"

namespace lincat {

void validate(const SamplingOptions& o) {
  if (!(o.temperature >= 0) || !std::isfinite(o.temperature)) {
    throw SettingError("temperature", " must be a finite number >= 0");
  }
  if (o.top_k < 0) throw SettingError("top_k", " must be >= 0");
  if (!(o.top_p > 0 && o.top_p <= 1)) throw SettingError("top_p", " must be in (0, 1]");
}

Sampler::Sampler(const SamplingOptions& options) : options_(options), rng_(options.seed) {
  validate(options);
}

int64_t Sampler::next(const at::Tensor& logits) {
  const at::Tensor scores = logits.to(at::kCPU, at::kDouble).contiguous();  // [V]
  if (options_.temperature == 0) return scores.argmax().item<int64_t>();

  // Candidates by descending score; keep top-k, then the smallest prefix holding top-p mass.
  auto [sorted, order] = (scores / options_.temperature).sort(/*dim=*/0, /*descending=*/true);
  int64_t keep = sorted.size(0);
  if (options_.top_k > 0) keep = std::min(keep, options_.top_k);
  at::Tensor probs = at::softmax(sorted.narrow(0, 0, keep), 0);  // [keep]
  if (options_.top_p < 1) {
    const at::Tensor cumulative = probs.cumsum(0);
    // First index where the mass reaches top_p; that token is still included.
    const int64_t cut = (cumulative < options_.top_p).sum().item<int64_t>() + 1;
    keep = std::min(keep, cut);
    probs = probs.narrow(0, 0, keep);
  }
  const double* p = probs.data_ptr<double>();
  double total = 0;
  for (int64_t i = 0; i < keep; ++i) total += p[i];
  double u = std::uniform_real_distribution<double>(0.0, total)(rng_);
  for (int64_t i = 0; i < keep; ++i) {
    u -= p[i];
    if (u <= 0) return order[i].item<int64_t>();
  }
  return order[keep - 1].item<int64_t>();
}

}  // namespace lincat
