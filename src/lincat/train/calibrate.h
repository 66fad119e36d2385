// Inference-time hybridisation, tuned: a model converted in linear-only mode and switched to
// hybrid (or overlap) keeps gamma at its untrained 0.1. Calibration trains gamma alone (the
// mixing logits, one per layer and head; every other weight frozen) on a few hundred tokens of
// text for next-token prediction in the target mode, keeps the gamma whose held-out loss in that
// mode was lowest (the untrained one included: calibration never leaves it worse), and measures
// held-out loss in hybrid and overlap mode before and after.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "lincat/model/model.h"
#include "lincat/train/data.h"

namespace lincat::train {

struct CalibrationSettings {
  attention::Mode mode = attention::Mode::Hybrid;  // the mode gamma is tuned for: hybrid or overlap
  int64_t steps = 60;                              // full-batch AdamW steps on the training sequences
  double learning_rate = 0.1;                      // on the mixing logits
  int64_t eval_interval = 10;                      // steps between held-out evaluations (and the last step)
};

// Held-out next-token cross-entropy (nats per token) and mean gamma.
struct CalibrationPoint {
  std::map<std::string, double> held_out_loss;  // mode name (hybrid, overlap) -> loss
  double mean_gamma = 0;
  std::vector<std::vector<double>> gamma;  // [layer][head]
};

struct CalibrationReport {
  CalibrationPoint before, after;  // `after`: the kept gamma
  int64_t train_tokens = 0, held_out_tokens = 0, steps = 0;
  int64_t best_step = 0;  // the step whose gamma is kept (0: the untrained one)
  std::vector<std::pair<int64_t, double>> held_out_curve;  // (step, held-out loss in the calibrated mode)
};

// The modes calibration reports: hybrid and overlap.
const std::vector<attention::Mode>& calibration_report_modes();

// Trains `model`'s mixing logits in settings.mode on `train` and reports held-out losses on
// `held_out` before and after. UserError for an unconverted model, a mode without both branches,
// or empty data.
CalibrationReport calibrate_gamma(Model& model, const TokenSequences& train, const TokenSequences& held_out,
                                  const CalibrationSettings& settings);

}  // namespace lincat::train
