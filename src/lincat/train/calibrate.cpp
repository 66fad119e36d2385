#include "lincat/train/calibrate.h"

#include "lincat/attention/key_sets.h"
#include "lincat/train/adamw.h"
#include "lincat/train/finetune_loss.h"
#include "lincat/util/error.h"

namespace lincat::train {
namespace {

// The whole of `data` in one pass, no gradient: next-token cross-entropy in `mode`.
double held_out_loss(const Model& model, const TokenSequences& data, attention::Mode mode) {
  at::NoGradGuard no_grad;
  return finetune_losses(model, nullptr, data.ids, data.loss_mask, mode, *model.config.hybrid, {}, 0, 1.0, false)
      .cross_entropy;
}

CalibrationPoint measure(const Model& model, const TokenSequences& held_out) {
  CalibrationPoint point;
  for (attention::Mode mode : calibration_report_modes()) {
    point.held_out_loss[attention::mode_name(mode)] = held_out_loss(model, held_out, mode);
  }
  double sum = 0;
  int64_t count = 0;
  for (const LayerWeights& layer : model.weights.layers) {
    const at::Tensor gamma = at::sigmoid(layer.hybrid.mixing_logit.detach().to(at::kDouble).cpu());  // [H]
    point.gamma.emplace_back();
    for (int64_t h = 0; h < gamma.size(0); ++h) point.gamma.back().push_back(gamma[h].item<double>());
    sum += gamma.sum().item<double>();
    count += gamma.size(0);
  }
  point.mean_gamma = count > 0 ? sum / static_cast<double>(count) : 0;
  return point;
}

}  // namespace

const std::vector<attention::Mode>& calibration_report_modes() {
  static const std::vector<attention::Mode> modes = {attention::Mode::Hybrid, attention::Mode::Overlap};
  return modes;
}

CalibrationReport calibrate_gamma(Model& model, const TokenSequences& train, const TokenSequences& held_out,
                                  const CalibrationSettings& settings) {
  if (!model.config.hybrid) {
    throw UserError(model.directory + " is an original checkpoint: calibration needs a converted model");
  }
  if (!attention::softmax_branch_is_mixed(settings.mode)) {
    throw UserError("calibration mode " + attention::mode_name(settings.mode) +
                    " has no gamma to tune (it needs both branches: hybrid or overlap)");
  }
  if (train.count() == 0 || held_out.count() == 0) throw UserError("calibration needs training and held-out sequences");
  if (settings.eval_interval < 1) throw SettingError("eval_interval", " must be >= 1");
  CalibrationReport report;
  report.train_tokens = train.ids.numel();
  report.held_out_tokens = held_out.ids.numel();
  report.steps = settings.steps;
  report.before = measure(model, held_out);

  std::vector<NamedParameter> gammas;  // every other tensor stays frozen (loaded without gradients)
  for (size_t l = 0; l < model.weights.layers.size(); ++l) {
    at::Tensor& logit = model.weights.layers[l].hybrid.mixing_logit;
    logit.requires_grad_(true);
    gammas.push_back({"layers." + std::to_string(l) + ".mixing_logit", logit, false});
  }
  AdamW optimiser(gammas);
  // A few hundred tokens can overfit gamma: the held-out loss in the calibrated mode picks the step to keep.
  const auto snapshot = [&gammas] {
    std::vector<at::Tensor> copies;
    for (const NamedParameter& p : gammas) copies.push_back(p.tensor.detach().clone());
    return copies;
  };
  double best_loss = report.before.held_out_loss.at(attention::mode_name(settings.mode));
  report.held_out_curve.emplace_back(0, best_loss);
  std::vector<at::Tensor> best = snapshot();
  for (int64_t step = 1; step <= settings.steps; ++step) {
    optimiser.zero_grad();
    finetune_losses(model, nullptr, train.ids, train.loss_mask, settings.mode, *model.config.hybrid, {}, 0, 1.0, true);
    optimiser.step(settings.learning_rate, 0);
    if (step % settings.eval_interval != 0 && step != settings.steps) continue;
    const double loss = held_out_loss(model, held_out, settings.mode);
    report.held_out_curve.emplace_back(step, loss);
    if (loss < best_loss) {
      best_loss = loss;
      report.best_step = step;
      best = snapshot();
    }
  }
  {
    at::NoGradGuard no_grad;
    for (size_t i = 0; i < gammas.size(); ++i) gammas[i].tensor.copy_(best[i]);
  }
  for (NamedParameter& p : gammas) p.tensor.requires_grad_(false);
  report.after = measure(model, held_out);
  return report;
}

}  // namespace lincat::train
