// Models and paths the evaluation tests share.
#pragma once
#include <string>

#include "lincat/attention/modes.h"
#include "lincat/model/converted_model.h"
#include "lincat/model/model.h"
#include "test_paths.h"

namespace lincat::test {

inline const std::string kEvalData = std::string(LINCAT_TEST_DATA) + "/eval";
inline const std::string kLlamaFixture = std::string(LINCAT_TEST_DATA) + "/hf-reference/llama-gqa";
inline const std::string kTinyTokenizer = std::string(LINCAT_TEST_DATA) + "/tokenizer/tiny.model";

enum class Branches {
  Trained,     // random feature maps and mixing logits: both branches carry weight
  Collapsed,   // t2r features that are always zero and gamma = 1: the linear branch carries nothing
  LinearOnly,  // gamma ~ 0: the window terms vanish next to the linear ones
};

// Writes a converted copy of the llama-gqa fixture (window 8, feature dim 8) into `directory`.
inline void write_converted_fixture(const std::string& directory, Branches branches) {
  attention::HybridConfig hybrid;
  hybrid.window = 8;
  hybrid.feature_dim = 8;
  if (branches == Branches::Collapsed) hybrid.feature_map = attention::FeatureMapKind::T2R;
  auto converted = convert_init(*load_model(kLlamaFixture), hybrid);
  torch::manual_seed(5);
  for (auto& layer : converted->weights.layers) {
    auto& h = layer.hybrid;
    switch (branches) {
      case Branches::Trained:
        h.feature_q = h.feature_q + 0.3 * torch::randn_like(h.feature_q);
        h.feature_k = h.feature_k + 0.3 * torch::randn_like(h.feature_k);
        h.mixing_logit = torch::randn_like(h.mixing_logit);
        break;
      case Branches::Collapsed:
        h.bias_q = torch::full_like(h.bias_q, -1e4);  // relu(x A + b) = 0 for every input
        h.mixing_logit = torch::full_like(h.mixing_logit, 50.0);
        break;
      case Branches::LinearOnly:
        h.mixing_logit = torch::full_like(h.mixing_logit, -50.0);
        break;
    }
  }
  save_model(*converted, directory);
}


}  // namespace lincat::test
