// The decoder's building blocks, exposed for training (teacher-forced attention transfer) and
// diagnostics (per-layer attention internals). decoder.cpp composes them into the forward pass.
#pragma once
#include <torch/torch.h>

#include <vector>

#include "lincat/attention/modes.h"
#include "lincat/model/model.h"

namespace lincat {

// x holds one float32 row on the CPU and no graph is recorded: a decode step, whose elementwise
// pieces (RMS norm, rotary embedding, silu * up) then run as single loops (kernels/row_ops_cpu.h).
bool is_float32_decode_row(const at::Tensor& x);

// x [B, T, D] -> [B, T, D]. Normalised in float32, then scaled in the model dtype (as transformers).
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);

struct QueryKeyValue {
  at::Tensor q;  // [B, H, T, d]   post-RoPE
  at::Tensor k;  // [B, Hkv, T, d] post-RoPE
  at::Tensor v;  // [B, Hkv, T, d]
};

// x W^T: x [..., in], weight [out, in] -> [..., out]. A single row on the CPU without autograd
// (a decode step) is a matrix-vector product: libtorch 1.13 runs at::linear of one row as a matrix
// product at about a third of the memory bandwidth, and a decode step is all weight reads. In
// float32 it goes through kernels/matvec_cpu.h where the CPU runs it (faster than OpenBLAS's
// sgemv), else through at::mv.
at::Tensor project(const at::Tensor& x, const at::Tensor& weight);

// Weights per thread task of that matrix-vector product: below this a second thread costs more
// than it saves.
inline constexpr int64_t kMatvecGrainFloats = int64_t{1} << 18;

// That product on raw buffers, y = W x: weight [rows, cols] float32 row-major, x [cols], y [rows],
// the rows split between the intra-op threads. Requires kernels::matvec_available().
void matvec_float32(const float* weight, int64_t rows, int64_t cols, const float* x, float* y);

// x [..., in] -> [..., out]: x W^T plus the adapter's low-rank update when it has one.
at::Tensor linear_with_lora(const at::Tensor& x, const at::Tensor& weight, const LoraAdapter& lora);

// Projections of the normalised layer input x [B, T, D] whose rows sit at positions start...
QueryKeyValue project_qkv(const Model& model, const LayerWeights& layer, const at::Tensor& x, int64_t start);

// Heads y [B, H, T, d] -> o_proj output [B, T, D].
at::Tensor project_output(const LayerWeights& layer, const at::Tensor& y);

// x [B, T, D] -> [B, T, D]: down(silu(gate(x)) * up(x)).
at::Tensor mlp_block(const LayerWeights& layer, const at::Tensor& x);

// The residual stream entering each layer and after the last one: L + 1 tensors [B, T, D], for
// ids [B, T] run in `mode` from position 0. The teacher's inputs for layer-wise training.
std::vector<at::Tensor> residual_stream(const Model& model, const at::Tensor& ids, attention::Mode mode);

}  // namespace lincat
