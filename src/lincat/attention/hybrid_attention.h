// The stateless forms by name, for callers outside attention/ (the decoder, stage 1 and stage 2
// all reach the chunked form through it); the recurrent form (recurrent.h) carries a state. The
// forms' own tests and benchmarks, and the recurrent form's prefill, call a form directly.
#pragma once
#include <torch/torch.h>

#include <string>

#include "lincat/attention/feature_map.h"
#include "lincat/attention/modes.h"

namespace lincat::attention {

enum class Form { Reference, Chunked };

std::string form_name(Form form);

// q [B, H, T, d]; k, v [B, Hkv, T, d] -> [B, H, T, d] in q's dtype, by the chosen form.
at::Tensor hybrid_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            const HybridLayerWeights& weights, const HybridConfig& config,
                            Mode mode, Form form);

}  // namespace lincat::attention
