#include "lincat/train/finetune_loss.h"

#include "lincat/model/decoder.h"
#include "lincat/train/student_forward.h"

namespace lincat::train {

FinetuneLosses finetune_losses(const Model& student, const Model* teacher, const at::Tensor& ids,
                               const at::Tensor& loss_mask, attention::Mode mode,
                               const attention::HybridConfig& hybrid, const DropPlan& drops, double kl_weight,
                               double scale, bool backward) {
  const int64_t T = ids.size(1);
  const at::Tensor logits = student_logits(student, ids, mode, hybrid, drops).narrow(1, 0, T - 1);  // [B, T-1, V]
  const at::Tensor targets = ids.narrow(1, 1, T - 1).to(logits.device());                          // [B, T-1]
  const at::Tensor mask = loss_mask.narrow(1, 1, T - 1).to(logits.device());                       // [B, T-1]
  const at::Tensor count = mask.sum().clamp_min(1);
  const at::Tensor log_probs = at::log_softmax(logits, -1);                                         // [B, T-1, V]
  const at::Tensor nll = -log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1);                 // [B, T-1]
  const at::Tensor cross_entropy = (nll * mask).sum() / count;
  at::Tensor total = cross_entropy;

  FinetuneLosses losses;
  if (teacher && kl_weight > 0) {
    at::Tensor teacher_log_probs;  // [B, T-1, V]
    {
      at::NoGradGuard no_grad;
      teacher_log_probs = at::log_softmax(forward(*teacher, ids, attention::Mode::Softmax).narrow(1, 0, T - 1), -1);
    }
    const at::Tensor kl_per_token = (teacher_log_probs.exp() * (teacher_log_probs - log_probs)).sum(-1);  // [B, T-1]
    const at::Tensor kl = (kl_per_token * mask).sum() / count;
    losses.kl = kl.item<double>();
    total = total + kl_weight * kl;
  }
  losses.cross_entropy = cross_entropy.item<double>();
  losses.total = total.item<double>();
  if (backward) (total * scale).backward();
  return losses;
}

}  // namespace lincat::train
