#include "lincat/attention/hybrid_attention.h"

#include "lincat/attention/chunked.h"
#include "lincat/attention/reference.h"

namespace lincat::attention {

std::string form_name(Form form) { return form == Form::Reference ? "reference" : "chunked"; }

at::Tensor hybrid_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            const HybridLayerWeights& weights, const HybridConfig& config,
                            Mode mode, Form form) {
  switch (form) {
    case Form::Reference:
      return reference_attention(q, k, v, weights, config, mode);
    case Form::Chunked:
      return chunked_attention(q, k, v, weights, config, mode);
  }
  throw std::logic_error("unhandled attention form");
}

}  // namespace lincat::attention
