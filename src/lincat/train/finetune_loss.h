// Stage 2's loss: next-token cross-entropy on the target tokens (prompt tokens of instruction
// data are masked out), plus an optional KL divergence to the teacher's next-token distribution.
#pragma once
#include <torch/torch.h>

#include "lincat/model/model.h"
#include "lincat/train/schedules.h"

namespace lincat::train {

struct FinetuneLosses {
  double cross_entropy = 0;
  double kl = 0;     // KL(teacher || student), mean over target tokens; 0 without a teacher
  double total = 0;  // cross_entropy + kl_weight * kl
};

// How the loss bounds its memory; neither changes the loss or the gradients (beyond rounding).
struct LossMemory {
  // Positions whose [positions x V] logits (student's and teacher's) exist at once; 0: all.
  int64_t chunk_tokens = 0;
  // Backward recomputes each layer from its saved input instead of keeping every layer's graph.
  bool checkpoint_layers = false;
};

// On ids [B, T] with loss_mask [B, T] (1 where a token is a target). `teacher` may be null (no
// KL). With `backward`, accumulates d(scale * total)/d(parameters).
FinetuneLosses finetune_losses(const Model& student, const Model* teacher, const at::Tensor& ids,
                               const at::Tensor& loss_mask, attention::Mode mode,
                               const attention::HybridConfig& hybrid, const DropPlan& drops, double kl_weight,
                               double scale, bool backward, const LossMemory& memory = {});

}  // namespace lincat::train
