// One token of one sequence through the whole decoder, float32 on the CPU: the decode step of
// `generate` and of every one-token continuation. A step of a 100M model is about 10 ms of weight
// reads; run as tensors (transformer_layer) a sixth of it went to operator dispatch, temporaries
// and copies, dozens of operators a layer (docs/BENCHMARKS.md, session 11). Here each layer is the
// row kernels on a few preallocated buffers, with the attention still taken from layer_attention
// (the KV cache or the hybrid state, whose own kernels run a decode row). The kernels and their
// order are transformer_layer's for one float32 row, so the logits are bit for bit those of the
// operator path (tests/model/decode_row_test.cpp).
#pragma once
#include <torch/torch.h>

#include "lincat/model/decode_state.h"
#include "lincat/model/model.h"

namespace lincat {

// Whether forward(model, ids, *state) can take decode_row: ids [1, 1], a float32 model on the
// CPU whose matrices (and LoRA adapters) are contiguous float32, no graph recorded, and a CPU with
// the matrix-vector kernel.
bool decode_row_applies(const Model& model, const at::Tensor& ids, const DecodeState* state);

// Token `id` at position state.position -> logits [1, 1, V] (float32); the state is updated
// (position included). Requires decode_row_applies.
at::Tensor decode_row(const Model& model, int64_t id, DecodeState& state);

}  // namespace lincat
