// `lincat convert`: a pretrained model to a trained hybrid (or linear) model, by a recipe:
// stage 1 attention transfer, stage 2 LoRA fine-tuning (with SSD when the recipe says), written
// as a converted model with the resolved recipe and a JSONL training log. Resumable.
#pragma once
#include <ostream>
#include <string>
#include <vector>

#include "lincat/model/model.h"
#include "lincat/train/recipe.h"

namespace lincat::train {

struct ConvertOptions {
  std::string model_dir;
  std::string tokenizer;  // empty: MODEL/tokenizer.model
  std::vector<std::string> data;
  std::string out_dir;
  Recipe recipe;          // resolved: overrides applied
  bool resume = false;
  int64_t stop_after_steps = 0;  // test hook: checkpoint and stop as on SIGINT after N steps
  LoadOptions load;
};

// Exit code 0 when the model is written; 128 + signal (130 for the test hook) when interrupted
// with a checkpoint saved. `out` gets the summary lines, `progress` the progress display.
int run_conversion(const ConvertOptions& options, std::ostream& out, std::ostream& progress, bool terminal);

// The files a conversion writes into its output directory.
inline constexpr const char* kRecipeFile = "recipe.yaml";
inline constexpr const char* kTrainingLogFile = "train_log.jsonl";
inline constexpr const char* kCheckpointFile = "checkpoint.safetensors";

}  // namespace lincat::train
