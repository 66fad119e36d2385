#include "lincat/train/adamw.h"

#include <cmath>

#include "lincat/util/compat.h"
#include "lincat/util/error.h"

namespace lincat::train {

AdamW::AdamW(std::vector<NamedParameter> parameters, double beta1, double beta2, double epsilon)
    : parameters_(std::move(parameters)), beta1_(beta1), beta2_(beta2), epsilon_(epsilon) {
  for (const NamedParameter& p : parameters_) {
    exp_avg_.push_back(at::zeros(p.tensor.sizes(), p.tensor.options()));
    exp_avg_sq_.push_back(at::zeros(p.tensor.sizes(), p.tensor.options()));
  }
}

void AdamW::step(double learning_rate, double weight_decay) {
  at::NoGradGuard no_grad;
  ++steps_;
  const double bias1 = 1 - std::pow(beta1_, static_cast<double>(steps_));
  const double bias2 = 1 - std::pow(beta2_, static_cast<double>(steps_));
  for (size_t i = 0; i < parameters_.size(); ++i) {
    at::Tensor p = parameters_[i].tensor;
    if (!compat::has_grad(p)) continue;
    const at::Tensor g = p.grad();
    if (weight_decay > 0 && parameters_[i].decays) p.mul_(1 - learning_rate * weight_decay);
    exp_avg_[i].mul_(beta1_).add_(g, 1 - beta1_);
    exp_avg_sq_[i].mul_(beta2_).addcmul_(g, g, 1 - beta2_);
    const at::Tensor denominator = (exp_avg_sq_[i].sqrt() / std::sqrt(bias2)).add_(epsilon_);
    p.addcdiv_(exp_avg_[i], denominator, -learning_rate / bias1);
  }
}

void AdamW::zero_grad() {
  for (const NamedParameter& p : parameters_) {
    if (compat::has_grad(p.tensor)) p.tensor.grad().zero_();
  }
}

double AdamW::clip_grad_norm(double max_norm) {
  at::NoGradGuard no_grad;
  double squared = 0;
  for (const NamedParameter& p : parameters_) {
    if (compat::has_grad(p.tensor)) squared += p.tensor.grad().to(at::kDouble).pow(2).sum().item<double>();
  }
  const double norm = std::sqrt(squared);
  if (max_norm > 0 && norm > max_norm) {
    const double factor = max_norm / (norm + 1e-6);
    for (const NamedParameter& p : parameters_) {
      if (compat::has_grad(p.tensor)) p.tensor.grad().mul_(factor);
    }
  }
  return norm;
}

std::vector<std::pair<std::string, at::Tensor>> AdamW::state() const {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    out.emplace_back("adam.exp_avg." + parameters_[i].name, exp_avg_[i]);
    out.emplace_back("adam.exp_avg_sq." + parameters_[i].name, exp_avg_sq_[i]);
  }
  return out;
}

void AdamW::load_state(const std::map<std::string, at::Tensor>& tensors, int64_t steps, const std::string& context) {
  at::NoGradGuard no_grad;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    for (auto [prefix, target] : {std::pair{"adam.exp_avg.", &exp_avg_[i]}, std::pair{"adam.exp_avg_sq.", &exp_avg_sq_[i]}}) {
      const auto found = tensors.find(prefix + parameters_[i].name);
      if (found == tensors.end()) throw UserError(context + ": missing optimiser state '" + prefix + parameters_[i].name + "'");
      target->copy_(found->second);
    }
  }
  steps_ = steps;
}

}  // namespace lincat::train
