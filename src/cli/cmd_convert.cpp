// lincat convert MODEL --recipe RECIPE --data PATH... --out DIR: attention transfer and LoRA
// fine-tuning by a recipe (docs/algorithms.md section 7). Interrupt with Ctrl-C, continue with
// --resume.
#include <iostream>

#include "cli/commands.h"
#include "cli/flags.h"
#include "lincat/train/convert.h"
#include "lincat/train/progress.h"

namespace lincat::cli {
namespace {

struct ConvertFlags {
  ModelFlags model;
  std::string recipe;
  std::vector<std::string> data;
  std::string out;
  std::string tokenizer;
  bool resume = false;
  uint64_t seed = 0;
  int64_t stage1_steps = 0;
  int64_t stage2_steps = 0;
  const CLI::Option* seed_given = nullptr;  // these three override the recipe only when given
  const CLI::Option* stage1_given = nullptr;
  const CLI::Option* stage2_given = nullptr;
  std::vector<std::string> overrides;
  int64_t stop_after_steps = 0;
  DistFlags dist;
  bool layer_parallel = false;
};

int run_convert(const ConvertFlags& flags) {
  train::ConvertOptions options;
  options.model_dir = flags.model.directory;
  options.tokenizer = flags.tokenizer;
  options.data = flags.data;
  options.out_dir = flags.out;
  options.resume = flags.resume;
  options.stop_after_steps = flags.stop_after_steps;
  ModelFlags model = flags.model;
  options.dist = flags.dist.settings(model.device);
  options.layer_parallel = flags.layer_parallel;
  options.load = model.load_options();
  options.recipe = train::load_recipe(flags.recipe);
  for (const std::string& assignment : flags.overrides) train::apply_override(options.recipe, assignment);
  // The dedicated flags win over the recipe and --set.
  if (flags.seed_given->count()) options.recipe.seed = flags.seed;
  if (flags.stage1_given->count()) {
    options.recipe.stage1.steps = flags.stage1_steps;
    options.recipe.stage1.token_budget = 0;
  }
  if (flags.stage2_given->count()) {
    options.recipe.stage2.steps = flags.stage2_steps;
    options.recipe.stage2.token_budget = 0;
  }
  return train::run_conversion(options, std::cout, std::cerr, train::stderr_is_terminal());
}

}  // namespace

void add_convert_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<ConvertFlags>();
  CLI::App* command = app.add_subcommand("convert", "train a hybrid linear-attention model from a pretrained one");
  flags->model.add_to(*command);
  command->add_option("--recipe", flags->recipe, "recipe YAML file or built-in: lolcats, hedgecats, ssd, linear")
      ->required();
  command->add_option("--data", flags->data, "training data: .txt, .jsonl (text or Alpaca fields), .json (Alpaca)")
      ->required();
  command->add_option("--out", flags->out, "output directory: model, recipe.yaml, train_log.jsonl")->required();
  command->add_option("--tokenizer", flags->tokenizer, "tokenizer.json or tokenizer.model (default: MODEL/tokenizer.json, else MODEL/tokenizer.model)");
  command->add_flag("--resume", flags->resume, "continue the interrupted run in --out from its checkpoint");
  flags->seed_given = command->add_option("--seed", flags->seed, "random seed (overrides the recipe)");
  flags->stage1_given = command->add_option("--stage1-steps", flags->stage1_steps,
                                            "stage-1 steps (overrides the recipe's steps or budget)")
                            ->check(CLI::NonNegativeNumber);
  flags->stage2_given = command->add_option("--stage2-steps", flags->stage2_steps,
                                            "stage-2 steps (overrides the recipe's steps or budget)")
                            ->check(CLI::NonNegativeNumber);
  command->add_option("--set", flags->overrides, "override a recipe setting: key=value, e.g. stage1.learning_rate=0.005");
  command->add_option("--stop-after-steps", flags->stop_after_steps,
                      "testing: checkpoint and stop after N steps of this run, exactly as on Ctrl-C (exit 130)");
  flags->dist.add_to(*command);
  command->add_flag("--layer-parallel", flags->layer_parallel,
                    "with several processes: stage 1 gives each a block of layers instead of a part of each batch");
  command->callback([flags, &action] { action = [flags] { return run_convert(*flags); }; });
}

}  // namespace lincat::cli
