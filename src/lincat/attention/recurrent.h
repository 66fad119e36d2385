// The recurrent form (algorithms.md section 6.3), for decoding: a ring buffer of the window's
// keys and values plus the linear state S, z; constant cost and memory per token. State updates
// run without autograd: decoding is inference.
#pragma once
#include <torch/torch.h>

#include "lincat/attention/hybrid_layer_state.h"
#include "lincat/attention/feature_map.h"
#include "lincat/attention/modes.h"

namespace lincat::attention {

// Runs the chunked form on q [B, H, T, d], k, v [B, Hkv, T, d] (T >= 1) and returns its output
// [B, H, T, d]; leaves `state` (which must be empty) as if the T tokens had been decoded.
at::Tensor prefill(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                   const HybridLayerWeights& weights, const HybridConfig& config, Mode mode,
                   HybridLayerState& state);

// The chunked continuation: runs the chunked form on T >= 1 tokens q [B, H, T, d], k, v
// [B, Hkv, T, d] at positions state.tokens_seen .. + T - 1, reading the window buffer, sinks and
// linear state of `state` (empty or not), and returns their output [B, H, T, d]; leaves `state`
// as if the T tokens had been decoded one by one, and equals that path up to rounding.
at::Tensor continue_chunked(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            const HybridLayerWeights& weights, const HybridConfig& config,
                            Mode mode, HybridLayerState& state);

// Continues `state` by T >= 1 tokens as continue_chunked does, by the faster exact path: the
// fused recurrent kernel token after token (decode_step's own arithmetic, bit for bit) where it
// runs, the chunked continuation elsewhere (autograd, other devices and dtypes). On the CPU the
// kernel was 1.2-25x faster than the chunked form for every block measured, 4 to 4096 tokens, from
// the fixture's layer to Llama-7B's (lincat bench continuation): the chunked form's hundred-odd
// operators per call and its padded blocks cost more than the recurrent form's arithmetic. The
// decoder continues states with it.
at::Tensor continue_state(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                          const HybridLayerWeights& weights, const HybridConfig& config, Mode mode,
                          HybridLayerState& state);

// Which path continue_state takes: true for the recurrent kernel (float32 or float64 on the CPU,
// no graph to record for the inputs or the weights, a mode with attention, a state of the same dtype).
bool recurrent_continuation_preferred(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                      const HybridLayerWeights& weights, Mode mode, const HybridLayerState& state);

// One token at position state.tokens_seen: q [B, H, 1, d], k, v [B, Hkv, 1, d] -> [B, H, 1, d]
// in q's dtype. An empty state is set up on the first call; a state built for another mode is
// refused. float32 and float64 on the CPU run the fused kernel (kernels/hybrid_decode_cpu.h), the
// rest decode_step_with_operators; the two agree up to rounding (tests/attention).
at::Tensor decode_step(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                       const HybridLayerWeights& weights, const HybridConfig& config, Mode mode,
                       HybridLayerState& state);

namespace detail {

// decode_step as libtorch operators on whole tensors: every device and dtype, and the reference
// the fused kernel is tested against.
at::Tensor decode_step_with_operators(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                      const HybridLayerWeights& weights, const HybridConfig& config, Mode mode,
                                      HybridLayerState& state);

// The T tokens of a continuation one after another through the fused decode kernel, in one call:
// equal to T decode_step calls bit for bit. float32 or float64 on the CPU, modes with attention.
at::Tensor continue_recurrent(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                              const HybridLayerWeights& weights, const HybridConfig& config, Mode mode,
                              HybridLayerState& state);

}  // namespace detail

}  // namespace lincat::attention
