// The original model's attention: causal softmax over all keys, or over a sliding window of w
// keys (i - w < j <= i, the transformers 4.45 eager rule) for models that have one.
#pragma once
#include <torch/torch.h>

#include <optional>

namespace lincat::attention {

// Keys and values seen so far, [B, Hkv, capacity, d], filled up to `length`. With a sliding
// window only the last w keys are kept, so memory stays bounded by the window.
struct KVCache {
  at::Tensor keys;             // [B, Hkv, capacity, d]
  at::Tensor values;           // [B, Hkv, capacity, d]
  int64_t length = 0;          // valid rows
  int64_t first_position = 0;  // absolute position of row 0

  // Appends k, v [B, Hkv, T, d]; drops keys no future query can see when `window` is set.
  void append(const at::Tensor& k, const at::Tensor& v, std::optional<int64_t> window);
  at::Tensor valid_keys() const { return keys.narrow(2, 0, length); }
  at::Tensor valid_values() const { return values.narrow(2, 0, length); }
  int64_t bytes() const;
};

// q [B, H, T, d] at positions q_start..q_start+T-1; k, v [B, Hkv, S, d] at k_start..k_start+S-1.
// Returns [B, H, T, d]. Scores and softmax in float32, as transformers' eager attention. One
// float32 query row on the CPU without a graph (a decode step) runs kernels/softmax_decode_cpu.h,
// equal to the operators up to rounding.
at::Tensor softmax_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                             int64_t q_start, int64_t k_start, std::optional<int64_t> window);

namespace detail {
// softmax_attention as libtorch operators, every shape, dtype and device: the reference the
// decode-row kernel is tested against.
at::Tensor softmax_attention_with_operators(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                            int64_t q_start, int64_t k_start, std::optional<int64_t> window);
}  // namespace detail

}  // namespace lincat::attention
