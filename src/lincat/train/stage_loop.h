// The loop every training stage shares: learning-rate schedule, optimiser steps, clipping,
// held-out evaluation with keep-best and early stopping, the JSONL training log, progress,
// periodic and on-signal checkpoints, and the NaN/Inf stop.
#pragma once
#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "lincat/dist/process_group.h"
#include "lincat/train/adamw.h"
#include "lincat/train/checkpoint.h"
#include "lincat/train/progress.h"
#include "lincat/train/recipe.h"
#include "lincat/train/test_hooks.h"

namespace lincat::train {

struct StepResult {
  double loss = 0;                                   // this rank's share-weighted part of the loss
  nlohmann::json fields = nlohmann::json::object();  // extra log fields, the same on every rank (SSD draws)
  nlohmann::json parts = nlohmann::json::object();   // numeric loss parts, summed across ranks like loss
};

struct StageTask {
  int stage = 1;
  int64_t total_steps = 0;
  StageSettings settings;
  int64_t tokens_per_step = 0;
  std::function<StepResult(int64_t step)> train_step;  // forward and backward on step's batch
  std::function<double()> evaluate;  // this rank's part of the held-out loss; empty: no held-out data
  // Extra numbers logged with each evaluation (every eval_interval steps), not used for keep-best
  // and not reduced across ranks: set it on the rank that writes the log. Empty: none.
  std::function<nlohmann::json()> monitor;
  // Finished: true puts the tensors of the best held-out evaluation back; false keeps the last.
  bool restore_best = true;
};

struct RunContext {
  Model& model;
  std::string checkpoint_path;
  std::string log_path;
  std::vector<std::string> log_lines;  // the training log, rewritten atomically when saved
  Progress progress;
  int64_t checkpoint_interval = 50;
  int64_t log_interval = 1;
  TestHooks test_hooks;
  int64_t steps_this_run = 0;
  std::vector<NamedParameter> checkpoint_tensors;  // the tensors checkpoints hold; empty: trainable_tensors(model)
  dist::Group* group = nullptr;  // the processes of the run; nullptr: this process alone

  bool writes_outputs() const { return group == nullptr || group->writes_outputs(); }

  void write_log() const;
  void checkpoint(const TrainingState& state, const AdamW* optimiser, const std::map<std::string, at::Tensor>& best);
};

enum class StageEnd { Finished, Interrupted };

// Runs `task` from state.step on. With several processes (context.group), each step's gradients,
// loss and parts are summed across ranks (each rank weights its share by its part of the global
// batch), as are held-out losses and the stop request, so every rank takes the same decisions;
// only rank 0 writes the log and checkpoints. Interrupted: a checkpoint was written. Finished: the best
// evaluated tensors (if any evaluation ran and task.restore_best) are back in the model and
// state.stage_finished is set.
// Throws UserError (after writing the log) when the loss is NaN or Inf; the last checkpoint stays.
StageEnd run_stage(const StageTask& task, AdamW& optimiser, TrainingState& state,
                   std::map<std::string, at::Tensor>& best, RunContext& context);

}  // namespace lincat::train
