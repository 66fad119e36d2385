// Stage 1, attention transfer (docs/algorithms.md section 7): teacher-forced and layer by layer.
// One teacher pass per batch supplies every layer's q, k, v and softmax output; each layer's
// student attention gets the teacher's own q, k, v, and only the feature maps and mixing
// logits learn.
#pragma once
#include <torch/torch.h>

#include "lincat/model/model.h"
#include "lincat/train/recipe.h"

namespace lincat::train {

struct TransferLosses {
  double output_mse = 0;    // 1000 * MSE of per-head outputs before o_proj, mean over layers
  double attention_ce = 0;  // soft cross-entropy of attention weights per query row, mean over layers
  double total = 0;         // the weighted sum that trains
};

// The transfer losses of `model` (a converted model) on ids [B, T] in `mode`. With `backward`,
// also accumulates d(scale * total)/d(parameters); gradients flow per layer and per query block,
// so no graph ever holds more than one layer's outputs or one [B, H, block, T] weight block.
// Only layers [first_layer, end_layer) (end_layer -1: the last) contribute, each still weighted
// 1 / num_layers, so the losses of disjoint layer ranges add up to the whole model's (stage 1's
// layer-parallel mode: the teacher pass stops after end_layer).
TransferLosses transfer_losses(const Model& model, const at::Tensor& ids, attention::Mode mode,
                               const Stage1Settings& settings, double scale, bool backward,
                               int64_t first_layer = 0, int64_t end_layer = -1);

}  // namespace lincat::train
