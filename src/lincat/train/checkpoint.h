// Training checkpoints: one safetensors file, written atomically, holding the trainable tensors,
// the optimiser state, the best evaluated tensors so far, and (as metadata) the loop's position.
// Every random draw derives from (seed, stage, step), so the position is the random state too.
#pragma once
#include <torch/torch.h>

#include <limits>
#include <map>
#include <string>
#include <vector>

#include "lincat/model/model.h"
#include "lincat/train/adamw.h"

namespace lincat::train {

struct TrainingState {
  int stage = 1;
  int64_t step = 0;             // completed steps of `stage`; also the data position
  bool stage_finished = false;  // the stage ran out of steps or stopped early
  int64_t optimiser_steps = 0;
  double plateau_factor = 1.0;  // reduce-on-plateau learning-rate multiplier
  double best_eval = std::numeric_limits<double>::infinity();
  int64_t evals_without_improvement = 0;
  int64_t tokens = 0;           // tokens trained on in this stage
  double seconds = 0;           // training time so far, over all runs
  int64_t log_lines = 0;        // lines of the training log that belong to this state
  uint64_t seed = 0;
};

// The tensors that train: feature maps, mixing logits and LoRA adapters, by checkpoint name.
std::vector<NamedParameter> trainable_tensors(Model& model);

// Writes `path` atomically: "model.<name>" for each of `parameters`, the optimiser state, "best.<name>".
void save_training_checkpoint(const std::string& path, const TrainingState& state,
                              const std::vector<NamedParameter>& parameters, const AdamW* optimiser,
                              const std::map<std::string, at::Tensor>& best);
// The same with the model's trainable_tensors.
void save_training_checkpoint(const std::string& path, const TrainingState& state, Model& model,
                              const AdamW* optimiser, const std::map<std::string, at::Tensor>& best);

struct LoadedCheckpoint {
  TrainingState state;
  std::map<std::string, at::Tensor> tensors;
};
// UserError naming the file if it is missing or not a lincat checkpoint.
LoadedCheckpoint load_training_checkpoint(const std::string& path);

// Copies the checkpoint's "model.<name>" tensors into `parameters` (bitwise).
void restore_parameters(const std::vector<NamedParameter>& parameters, const LoadedCheckpoint& checkpoint,
                        const std::string& path);
// The same for `model`'s trainable tensors.
void restore_trainable(Model& model, const LoadedCheckpoint& checkpoint, const std::string& path);
// The "best.<name>" tensors, keyed by <name>.
std::map<std::string, at::Tensor> best_tensors(const LoadedCheckpoint& checkpoint);

}  // namespace lincat::train
