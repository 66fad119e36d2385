// The Llama/Mistral decoder forward pass: one transformer layer, one loop over the layers, and the
// forward() every command runs. Training (train/student_forward.cpp, train/attention_transfer.cpp)
// and the diagnostics run the same layer and loop with their own attention or observer.
#pragma once
#include <torch/torch.h>

#include <functional>

#include "lincat/model/decode_state.h"
#include "lincat/model/layers.h"
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

// One layer's attention: its q [B, H, T, d] and k, v [B, Hkv, T, d] -> heads [B, H, T, d].
using LayerAttention = std::function<at::Tensor(int64_t layer, const QueryKeyValue& qkv)>;

// Sees each layer as it runs (as gemma.cpp's activations observer): the residual stream entering
// it [B, T, D], its q, k, v, and its attention heads [B, H, T, d] before o_proj. Stage 1 trains on
// them; the diagnostics measure them.
using LayerObserver = std::function<void(int64_t layer, const at::Tensor& input, const QueryKeyValue& qkv,
                                         const at::Tensor& heads)>;

// The attention forward() runs in layer `layer`: the model's own softmax in Softmax mode, the
// hybrid forms with settings `hybrid` in every other mode. Without a state q, k, v are a whole
// sequence (the chunked form); with one they continue it from position `start` (KV cache,
// prefill, recurrent decode steps) and it is updated.
at::Tensor layer_attention(const Model& model, int64_t layer, const QueryKeyValue& qkv, int64_t start,
                           attention::Mode mode, const attention::HybridConfig* hybrid, LayerDecodeState* state);

// The attention forward() runs in every layer: in `mode`, continuing `state` (positions from
// state->position) when given. `model` and `state` must outlive it.
LayerAttention attention_in(const Model& model, attention::Mode mode, DecodeState* state = nullptr);

// The forward pass behind the overloads above, with an observer of every layer. A single float32
// token continuing a state on the CPU without an observer runs model/decode_row.h; everything else
// runs the layers as tensors.
at::Tensor forward_layers(const Model& model, const at::Tensor& ids, attention::Mode mode, DecodeState* state,
                          const LayerObserver& observer = {});

namespace detail {
// forward_layers always as tensors (transformer_layer): what decode_row is tested against.
at::Tensor forward_with_operators(const Model& model, const at::Tensor& ids, attention::Mode mode, DecodeState* state,
                                  const LayerObserver& observer = {});
}  // namespace detail

// THE transformer layer: hidden [B, T, D] at positions start.. -> [B, T, D],
//   h = hidden + o_proj(attention(q, k, v of rms_norm(hidden)));  h + mlp(rms_norm(h)).
at::Tensor transformer_layer(const Model& model, int64_t layer, const at::Tensor& hidden, int64_t start,
                             const LayerAttention& attention, const LayerObserver& observer = {});

// THE loop over layers: ids [B, T] at positions start.. -> the residual stream after the first
// `layers` layers [B, T, D] (-1: all of them).
at::Tensor run_layers(const Model& model, const at::Tensor& ids, int64_t start, const LayerAttention& attention,
                      const LayerObserver& observer = {}, int64_t layers = -1);

// The residual stream after the last layer [B, T, D] -> logits [B, T, V] (float32).
at::Tensor output_logits(const Model& model, const at::Tensor& hidden);

// Throws UserError unless `model` can run in `mode`: every mode but softmax needs a converted
// model (one whose config.json has a "lincat" section).
void check_mode(const Model& model, attention::Mode mode);

// Throws UserError naming `what` if any id is outside [0, vocab).
void check_token_ids(const Model& model, const std::vector<int64_t>& ids, const std::string& what);

}  // namespace lincat
