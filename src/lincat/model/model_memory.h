// Memory a model or a forward pass needs, checked from the config before any tensor exists.
// No libtorch here, so absurd configs are refused in the fuzzed parser library too.
#pragma once
#include <cstdint>
#include <string>

#include "lincat/model/model_config.h"

namespace lincat {

// Bytes the decoder's parameters take with `element_size` bytes each; saturates at UINT64_MAX
// (a config may declare 2^24 x 2^24 matrices, which no 64-bit count holds).
uint64_t parameter_bytes(const ModelConfig& config, uint64_t element_size);

// Throws UserError "<context>: the model (N parameters in <dtype>) needs X GiB, this machine has
// Y GiB" when the parameters alone exceed the machine's physical memory.
void check_model_fits(const ModelConfig& config, uint64_t element_size, const std::string& dtype,
                      const std::string& context);

// A lower bound of the memory one forward pass over [batch, tokens] needs: the float32 logits,
// plus the float32 attention scores [batch, heads, tokens, tokens] when softmax attention
// materialises them. Saturating.
uint64_t forward_bytes_lower_bound(const ModelConfig& config, int64_t batch, int64_t tokens, bool softmax);

// Throws UserError "a forward pass over B x T tokens needs at least X GiB, Y GiB is available"
// when the lower bound exceeds the memory available now.
void check_forward_fits(const ModelConfig& config, int64_t batch, int64_t tokens, bool softmax);

}  // namespace lincat
