// lincat merge DIR --out DIR2: folds a converted model's LoRA adapters into its base weights.
#include <iostream>

#include "cli/commands.h"
#include "cli/flags.h"
#include "lincat/model/converted_model.h"
#include "lincat/train/lora.h"

namespace lincat::cli {
namespace {

struct MergeFlags {
  ModelFlags model;
  std::string out;
};

int run_merge(const MergeFlags& flags) {
  auto model = std::make_shared<Model>(*load_model(flags.model.directory, flags.model.load_options()));
  const int64_t rank = model->config.lora ? model->config.lora->rank : 0;
  train::merge_lora(*model);
  save_model(*model, flags.out);
  std::cout << flags.out << ": LoRA adapters (rank " << rank << ") merged into the base weights\n";
  return 0;
}

}  // namespace

void add_merge_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<MergeFlags>();
  CLI::App* command = app.add_subcommand("merge", "fold a converted model's LoRA adapters into its weights");
  flags->model.add_to(*command);
  command->add_option("--out", flags->out, "output model directory")->required();
  command->callback([flags, &action] { action = [flags] { return run_merge(*flags); }; });
}

}  // namespace lincat::cli
