// `lincat convert`: a pretrained model to a trained hybrid (or linear) model, by a recipe:
// stage 1 attention transfer, stage 2 LoRA fine-tuning (with SSD when the recipe says), written
// as a converted model with the resolved recipe and a JSONL training log. Resumable.
#pragma once
#include <ostream>
#include <string>
#include <vector>

#include "lincat/dist/settings.h"
#include "lincat/model/model.h"
#include "lincat/train/recipe.h"
#include "lincat/train/test_hooks.h"

namespace lincat::train {

struct ConvertOptions {
  std::string model_dir;
  std::string tokenizer;  // empty: MODEL/tokenizer.json, else MODEL/tokenizer.model, else none
  std::vector<std::string> data;
  std::string out_dir;
  Recipe recipe;          // resolved: overrides applied
  bool resume = false;
  TestHooks test_hooks;          // fault injection for tests; the defaults do nothing
  LoadOptions load;
  dist::Settings dist;          // world size 1: this process alone
  bool layer_parallel = false;  // stage 1: each rank trains a block of layers on the whole batch
};

// With several processes (options.dist) each rank runs this with the same options: a step's
// batch is split among the ranks (stage 1 with layer_parallel: its layers) and gradients are
// summed through c10d; only rank 0 writes files, so the output equals a one-process run's.
// Exit code 0 when the model is written; 128 + signal (130 for the test hook) when interrupted
// with a checkpoint saved. `out` gets the summary lines, `progress` the progress display.
int run_conversion(const ConvertOptions& options, std::ostream& out, std::ostream& progress, bool terminal);

// The files a conversion writes into its output directory.
inline constexpr const char* kRecipeFile = "recipe.yaml";
inline constexpr const char* kTrainingLogFile = "train_log.jsonl";
inline constexpr const char* kCheckpointFile = "checkpoint.safetensors";

}  // namespace lincat::train
