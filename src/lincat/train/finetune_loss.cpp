#include "lincat/train/finetune_loss.h"

#include <algorithm>

#include "lincat/model/decoder.h"
#include "lincat/train/student_forward.h"

namespace lincat::train {
namespace {

// The default random generator of a device: LoRA dropout draws from it, and a layer recomputed in
// backward must draw the same masks as its forward did.
at::Generator generator_of(const torch::Device& device) { return at::globalContext().defaultGenerator(device); }

at::Tensor rng_state(const torch::Device& device) {
  at::Generator generator = generator_of(device);
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state();
}

void set_rng_state(const torch::Device& device, const at::Tensor& state) {
  at::Generator generator = generator_of(device);
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
}

// The student's forward through its layers, kept so that a gradient of the last residual stream
// can be sent back into the trainable tensors: through the whole graph, or (checkpointing) layer
// by layer, each recomputed from its saved input.
class StudentLayers {
 public:
  StudentLayers(const Model& model, const at::Tensor& ids, const LayerAttention& attention, bool checkpoint)
      : model_(model), attention_(attention), checkpoint_(checkpoint) {
    if (!checkpoint_) {
      output_ = run_layers(model, ids, 0, attention);  // [B, T, D] with the graph of every layer
      return;
    }
    // Grad mode stays on (LoRA dropout draws only then); each layer's graph is dropped at once.
    at::Tensor h = at::embedding(model.weights.embed_tokens, ids.to(model.device)).detach();  // [B, T, D]
    for (int64_t i = 0; i < model.config.num_layers; ++i) {
      inputs_.push_back(h);
      rng_.push_back(rng_state(model.device));
      h = transformer_layer(model, i, h, 0, attention).detach();
    }
    output_ = h;
  }

  const at::Tensor& output() const { return output_; }  // [B, T, D]

  // Accumulates d(output . grad)/d(trainable tensors) into their .grad.
  void backward(const at::Tensor& grad) const {  // [B, T, D]
    if (!checkpoint_) {
      output_.backward(grad);
      return;
    }
    const at::Tensor resume_rng = rng_state(model_.device);
    at::Tensor g = grad;
    for (int64_t i = model_.config.num_layers - 1; i >= 0; --i) {
      const at::Tensor x = inputs_[static_cast<size_t>(i)].detach().requires_grad_(true);  // [B, T, D]
      set_rng_state(model_.device, rng_[static_cast<size_t>(i)]);
      const at::Tensor y = transformer_layer(model_, i, x, 0, attention_);
      y.backward(g);
      g = x.grad();
    }
    set_rng_state(model_.device, resume_rng);
  }

 private:
  const Model& model_;
  const LayerAttention& attention_;
  bool checkpoint_;
  at::Tensor output_;
  std::vector<at::Tensor> inputs_;  // checkpointing: each layer's input [B, T, D], no graph
  std::vector<at::Tensor> rng_;     // and the generator's state when it ran
};

}  // namespace

FinetuneLosses finetune_losses(const Model& student, const Model* teacher, const at::Tensor& ids,
                               const at::Tensor& loss_mask, attention::Mode mode,
                               const attention::HybridConfig& hybrid, const DropPlan& drops, double kl_weight,
                               double scale, bool backward, const LossMemory& memory) {
  const int64_t T = ids.size(1), D = student.config.hidden_size;
  const LayerAttention attention = student_attention(student, mode, hybrid, drops);
  const StudentLayers layers(student, ids, attention, memory.checkpoint_layers && backward);
  // The loss reads the last residual stream through a leaf, so that each chunk's backward stops
  // there and the layers are backpropagated once, with the sum of the chunks' gradients.
  const at::Tensor last = backward ? layers.output().detach().requires_grad_(true) : layers.output();  // [B, T, D]
  const at::Tensor hidden = last.narrow(1, 0, T - 1).reshape({-1, D});                                 // [P, D]
  const at::Tensor targets = ids.narrow(1, 1, T - 1).reshape({-1}).to(hidden.device());               // [P]
  const at::Tensor mask = loss_mask.narrow(1, 1, T - 1).reshape({-1}).to(hidden.device());            // [P]
  const at::Tensor count = mask.sum().clamp_min(1);
  const bool with_kl = teacher && kl_weight > 0;
  at::Tensor teacher_hidden;  // [P, D]
  if (with_kl) {
    at::NoGradGuard no_grad;
    teacher_hidden = run_layers(*teacher, ids, 0, attention_in(*teacher, attention::Mode::Softmax))
                         .narrow(1, 0, T - 1)
                         .reshape({-1, D});
  }

  FinetuneLosses losses;
  const int64_t positions = hidden.size(0);
  const int64_t chunk = memory.chunk_tokens > 0 ? memory.chunk_tokens : positions;
  for (int64_t start = 0; start < positions; start += chunk) {
    const int64_t rows = std::min(chunk, positions - start);
    const at::Tensor m = mask.narrow(0, start, rows);                                                   // [c]
    const at::Tensor log_probs = at::log_softmax(output_logits(student, hidden.narrow(0, start, rows)), -1);  // [c, V]
    const at::Tensor nll = -log_probs.gather(-1, targets.narrow(0, start, rows).unsqueeze(-1)).squeeze(-1);  // [c]
    const at::Tensor cross_entropy = (nll * m).sum() / count;
    at::Tensor total = cross_entropy;
    if (with_kl) {
      at::Tensor teacher_log_probs;  // [c, V]
      {
        at::NoGradGuard no_grad;
        teacher_log_probs = at::log_softmax(output_logits(*teacher, teacher_hidden.narrow(0, start, rows)), -1);
      }
      const at::Tensor kl_per_token = (teacher_log_probs.exp() * (teacher_log_probs - log_probs)).sum(-1);  // [c]
      const at::Tensor kl = (kl_per_token * m).sum() / count;
      losses.kl += kl.item<double>();
      total = total + kl_weight * kl;
    }
    losses.cross_entropy += cross_entropy.item<double>();
    losses.total += total.item<double>();
    if (backward) (total * scale).backward();
  }
  if (backward && last.grad().defined()) layers.backward(last.grad());
  return losses;
}

}  // namespace lincat::train
