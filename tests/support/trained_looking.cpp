#include "support/trained_looking.h"

namespace lincat::test {

void perturb_hybrid_weights(Model& model, uint64_t seed) {
  torch::manual_seed(seed);
  const torch::NoGradGuard no_grad;
  for (auto& layer : model.weights.layers) {
    attention::HybridLayerWeights& h = layer.hybrid;
    if (h.feature_q.defined()) {
      h.feature_q = h.feature_q + 0.3 * torch::randn_like(h.feature_q);
      h.feature_k = h.feature_k + 0.3 * torch::randn_like(h.feature_k);
    }
    h.mixing_logit = torch::randn_like(h.mixing_logit);
  }
}

}  // namespace lincat::test
