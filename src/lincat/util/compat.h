// The one place where libtorch versions differ (Debian's 1.13 CPU build vs. 2.x CUDA builds).
// Everything else in lincat is written against the common subset and calls these helpers.
#pragma once
#include <torch/torch.h>

#include <optional>

#if __has_include(<torch/version.h>)
#include <torch/version.h>
#endif

namespace lincat::compat {

#if defined(TORCH_VERSION_MAJOR) && TORCH_VERSION_MAJOR >= 2
inline constexpr bool kTorch2 = true;
#else
inline constexpr bool kTorch2 = false;
#endif

// c10::optional is its own type in 1.13 and an alias of std::optional from 2.x on.
template <typename T>
c10::optional<T> to_c10(const std::optional<T>& value) {
  if (value) return c10::optional<T>(*value);
  return c10::nullopt;
}

// zero_grad() in 2.x sets gradients to undefined; 1.13 zeroes them. Always check defined().
inline bool has_grad(const at::Tensor& t) { return t.grad().defined(); }

// Pointer to read-only tensor data (const_data_ptr appeared in 2.1).
template <typename T>
const T* const_data(const at::Tensor& t) {
  return static_cast<const T*>(t.data_ptr());
}

}  // namespace lincat::compat
