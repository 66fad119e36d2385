// The chunked hybrid form (algorithms.md section 6.2) of one head, forward and backward, as a loop
// over chunks of C = w rows on raw buffers: each chunk is a handful of BLAS products on blocks
// that stay in cache, plus one pass over its [C x 2C] weights. The libtorch form
// (attention/chunked.cpp) builds the same blocks for all chunks at once with several dozen
// operators, which spent half its time outside the products and ran the products as one small
// BLAS call per chunk anyway. The caller decides when this applies (attention/chunked_kernel.h);
// the reference form and the libtorch form are what the tests hold it to.
//
// Covered: the hybrid, window, linear and overlap modes without sinks, from position 0 (no decode
// history), both layouts. Query i's softmax set is the keys j in [start(i), i] (start from
// attention/window.h; the window modes), its linear set the keys j < start(i) (hybrid) or j <= i
// (linear, overlap): keys of chunks b-1 and b come from the [C x 2C] block, older chunks from the
// running state [S z] = sum phi_k(k_j)^T [v_j 1].
#pragma once
#include <cstdint>

#include "lincat/attention/modes.h"

namespace lincat::kernels {

template <typename T>
struct HybridChunkedHead {
  int64_t length = 0;    // T
  int64_t head_dim = 0;  // d
  int64_t features = 0;  // F
  int64_t window = 0;    // w, also the chunk size
  attention::Layout layout = attention::Layout::Standard;
  attention::Mode mode = attention::Mode::Hybrid;  // hybrid, window, linear or overlap
  T gamma = 1;                    // weight of the softmax branch
  T denominator_floor = 0;        // the normaliser is floored here before dividing

  const T* q = nullptr;      // [T, d] post-RoPE
  const T* k = nullptr;      // [T, d]
  const T* v = nullptr;      // [T, d]
  const T* phi_q = nullptr;  // [T, F]; unused (F = 0) without a linear branch
  const T* phi_k = nullptr;  // [T, F]
  T* out = nullptr;          // [T, d]

  // Written by the forward for the backward (all null when no backward follows):
  T* window_exp = nullptr;        // [T, 2C] exp(s_ij - m_i) over the softmax set, key (b-1)C + c in column c
  int32_t* max_column = nullptr;  // [T] the column where s_ij is largest (m_i's argument)
  T* normaliser = nullptr;        // [T] den_i before the floor
};

template <typename T>
struct HybridChunkedGradients {
  const T* grad_out = nullptr;  // [T, d]
  // Written (overwritten, not accumulated):
  T* grad_q = nullptr;      // [T, d]
  T* grad_k = nullptr;      // [T, d]
  T* grad_v = nullptr;      // [T, d]
  T* grad_phi_q = nullptr;  // [T, F]
  T* grad_phi_k = nullptr;  // [T, F]
  T grad_gamma = 0;
};

// out = the attention of one head in head.mode (and the buffers the backward reads, where set).
template <typename T>
void hybrid_chunked_forward(const HybridChunkedHead<T>& head);

// Gradients of sum(out * grad_out) with respect to q, k, v, phi_q, phi_k and gamma, from a head
// whose forward filled out, window_exp, max_column and normaliser.
template <typename T>
void hybrid_chunked_backward(const HybridChunkedHead<T>& head, HybridChunkedGradients<T>& grads);

extern template void hybrid_chunked_forward<float>(const HybridChunkedHead<float>&);
extern template void hybrid_chunked_forward<double>(const HybridChunkedHead<double>&);
extern template void hybrid_chunked_backward<float>(const HybridChunkedHead<float>&, HybridChunkedGradients<float>&);
extern template void hybrid_chunked_backward<double>(const HybridChunkedHead<double>&, HybridChunkedGradients<double>&);

}  // namespace lincat::kernels
