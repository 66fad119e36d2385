// The chunked form as the CPU kernel of kernels/hybrid_chunked_cpu.h: where it applies, and an
// autograd function around it. The feature maps and gamma stay libtorch operators (their
// gradients come from autograd); the kernel takes phi_q, phi_k and gamma as inputs.
#pragma once
#include <torch/torch.h>

#include "lincat/attention/chunked.h"

namespace lincat::attention::detail {

// The kernel covers the hybrid, window, linear and overlap modes without sinks over a whole
// sequence (no decode history), both layouts, on the CPU in float32/float64 computation (so 16-bit
// inputs too), where the process has a BLAS gemm (blas_cpu.h).
bool chunked_kernel_applies(const at::Tensor& q, const HybridConfig& config, Mode mode,
                            const ChunkedHistory& history);

// Same contract as chunked_attention (inputs already checked): q [B, H, T, d]; k, v [B, Hkv, T, d]
// -> [B, H, T, d] in q's dtype. Requires chunked_kernel_applies.
at::Tensor chunked_kernel_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                    const HybridLayerWeights& weights, const HybridConfig& config, Mode mode);

}  // namespace lincat::attention::detail
