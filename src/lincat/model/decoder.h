// The Llama/Mistral decoder forward pass.
#pragma once
#include <torch/torch.h>

#include "lincat/model/decode_state.h"
#include "lincat/model/model.h"

namespace lincat {

// ids [B, T] (int64) -> logits [B, T, V] (float32), with every layer's attention in `mode`.
// Without a state the T tokens are a whole sequence starting at position 0. With a state they
// continue it from state->position (prefill, then decode one token at a time), the state is
// updated, and its mode is used.
at::Tensor forward(const Model& model, const at::Tensor& ids, attention::Mode mode);
at::Tensor forward(const Model& model, const at::Tensor& ids, DecodeState& state);
// In the model's default mode (softmax for original checkpoints).
at::Tensor forward(const Model& model, const at::Tensor& ids);

// The forward pass behind the overloads above; also records the residual stream entering each
// layer and after the last (L + 1 tensors [B, T, D]) when `residuals` is given.
at::Tensor forward_layers(const Model& model, const at::Tensor& ids, attention::Mode mode, DecodeState* state,
                          std::vector<at::Tensor>* residuals);

// Throws UserError unless `model` can run in `mode`: every mode but softmax needs a converted
// model (one whose config.json has a "lincat" section).
void check_mode(const Model& model, attention::Mode mode);

// Throws UserError naming `what` if any id is outside [0, vocab).
void check_token_ids(const Model& model, const std::vector<int64_t>& ids, const std::string& what);

}  // namespace lincat
