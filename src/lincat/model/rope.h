// Rotary position embeddings, Hugging Face "rotate-half" layout: within a head, dimension i is
// rotated together with dimension i + d/2.
#pragma once
#include <torch/torch.h>

#include "lincat/model/model_config.h"

namespace lincat::rope {

// Inverse frequencies [d/2] (float32), including llama3 or linear scaling when configured.
at::Tensor inverse_frequencies(const ModelConfig& config);

// Rotates x [B, h, T, d] whose T rows sit at positions start .. start+T-1.
// cos/sin are computed in float32 (as transformers does) and applied in x's dtype.
at::Tensor apply(const at::Tensor& x, const at::Tensor& inverse_frequencies, int64_t start);

}  // namespace lincat::rope
