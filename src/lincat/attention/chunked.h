// The chunked form (algorithms.md section 6.2), for training and prefill: chunk size C = w, no
// n x n tensor, memory linear in n, vectorised over chunks. Plain torch ops (autograd works), or
// on the CPU, where it applies, the kernel of chunked_kernel.h with its own backward.
#pragma once
#include <torch/torch.h>

#include "lincat/attention/feature_map.h"
#include "lincat/attention/modes.h"

namespace lincat::attention {

// What a block of tokens that continues a decode state brings besides its own rows (the chunked
// continuation of recurrent.h). Positions are absolute, from the start of the sequence. The
// default is a whole sequence: rows from position 0, no earlier state.
struct ChunkedHistory {
  int64_t offset = 0;        // position of row 0 of q, k, v; a multiple of w
  int64_t state_query = -1;  // linear_state holds L(state_query), keys the rows must not add again
  at::Tensor linear_state;   // [B, H, F, d + 1] in the compute dtype: [S z]; undefined if none
  // Keys and values of positions 0 .. s'-1 for the sink terms, when the rows start past them
  // (offset > 0); undefined: the sinks are read from the first rows.
  at::Tensor sink_keys;    // [B, Hkv, s', d]
  at::Tensor sink_values;  // [B, Hkv, s', d]
};

// q [B, H, T, d]; k, v [B, Hkv, T, d] (post-RoPE, not GQA-expanded) -> [B, H, T, d] in q's dtype.
// Same result as reference_attention for every mode but Softmax (refused with a UserError).
// Without autograd, heads are processed in groups that bound the temporaries to about 1 GiB.
at::Tensor chunked_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                             const HybridLayerWeights& weights, const HybridConfig& config,
                             Mode mode);

// The same over rows that continue `history`: row r is position history.offset + r. Rows whose
// keys the history holds elsewhere (in its state or sink buffers) may carry anything; the outputs
// of rows before the block's first new token are to be discarded.
at::Tensor chunked_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                             const HybridLayerWeights& weights, const HybridConfig& config,
                             Mode mode, const ChunkedHistory& history);

namespace detail {

// The chunked form run on heads_per_pass query heads at a time (a multiple of H / Hkv); the
// result does not depend on it. chunked_attention picks it from a memory budget when autograd is
// off, and takes all heads at once otherwise. Where the CPU kernel applies (chunked_kernel.h) it
// runs unless allow_kernel is false: the libtorch operators then compute the same (tests).
at::Tensor chunked_attention_by_heads(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                      const HybridLayerWeights& weights, const HybridConfig& config,
                                      Mode mode, int64_t heads_per_pass,
                                      const ChunkedHistory& history = {}, bool allow_kernel = true);

// chunked_attention with the libtorch operators even where the kernel applies: what the kernel
// replaced, for benchmarks.
at::Tensor chunked_attention_with_operators(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                            const HybridLayerWeights& weights, const HybridConfig& config,
                                            Mode mode);

}  // namespace detail

}  // namespace lincat::attention
