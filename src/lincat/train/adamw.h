// AdamW (decoupled weight decay) with its state as plain named tensors, so that a checkpoint can
// hold it and a resumed run continues bitwise. Written here rather than taken from torch::optim
// because the optimiser's state layout differs between libtorch 1.13 and 2.x.
#pragma once
#include <torch/torch.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace lincat::train {

struct NamedParameter {
  std::string name;  // the tensor's checkpoint name
  at::Tensor tensor; // a leaf with requires_grad
  bool decays = true; // weight decay applies (RMSNorm gains are usually exempt)
};

class AdamW {
 public:
  explicit AdamW(std::vector<NamedParameter> parameters, double beta1 = 0.9, double beta2 = 0.999,
                 double epsilon = 1e-8);

  // One update of every parameter that has a gradient.
  void step(double learning_rate, double weight_decay);
  // Zeroes the gradients in place (1.13 and 2.x agree on this; see compat::has_grad).
  void zero_grad();
  // Scales gradients so their global L2 norm is at most max_norm; returns the norm before.
  double clip_grad_norm(double max_norm);

  const std::vector<NamedParameter>& parameters() const { return parameters_; }
  int64_t steps() const { return steps_; }

  // "adam.exp_avg.<name>" and "adam.exp_avg_sq.<name>" per parameter.
  std::vector<std::pair<std::string, at::Tensor>> state() const;
  // Restores state() and the step count; UserError naming `context` if a tensor is missing.
  void load_state(const std::map<std::string, at::Tensor>& tensors, int64_t steps, const std::string& context);

 private:
  std::vector<NamedParameter> parameters_;
  std::vector<at::Tensor> exp_avg_;     // per parameter, its shape
  std::vector<at::Tensor> exp_avg_sq_;  // per parameter, its shape
  double beta1_, beta2_, epsilon_;
  int64_t steps_ = 0;
};

}  // namespace lincat::train
