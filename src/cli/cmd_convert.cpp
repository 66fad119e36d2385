// lincat convert MODEL --recipe RECIPE --data PATH... --out DIR: attention transfer and LoRA
// fine-tuning by a recipe (docs/algorithms.md section 7). Interrupt with Ctrl-C, continue with
// --resume.
#include <filesystem>
#include <iostream>
#include <optional>

#include "cli/commands.h"
#include "cli/flags.h"
#include "lincat/io/hf_config.h"
#include "lincat/plan/memory_plan.h"
#include "lincat/train/convert.h"
#include "lincat/train/progress.h"
#include "lincat/util/threads.h"
#include "lincat/util/error.h"

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
  const CLI::Option* seed_given = nullptr;  // overrides the recipe only when given
  RecipeFlags changes;
  TestHookFlags test_hooks;
  DistFlags dist;
  bool layer_parallel = false;
  bool force = false;
};

int run_convert(const ConvertFlags& flags) {
  train::ConvertOptions options;
  options.model_dir = flags.model.directory;
  options.tokenizer = flags.tokenizer;
  options.data = flags.data;
  options.out_dir = flags.out;
  options.resume = flags.resume;
  options.test_hooks = flags.test_hooks.hooks();
  ModelFlags model = flags.model;
  options.dist = flags.dist.settings(model.device);
  options.layer_parallel = flags.layer_parallel;
  options.load = model.load_options();
  try {
    options.recipe = train::load_recipe(flags.recipe);
  } catch (const UserError& e) {
    throw UserError(std::string("--recipe: ") + e.what());
  }
  train::apply_overrides(options.recipe, flags.changes.overrides());
  if (flags.seed_given->count()) options.recipe.seed = flags.seed;  // the dedicated flags win over --set
  // Threads for one training forward (run_conversion reports a missing or bad config itself).
  const std::string config_path = (std::filesystem::path(flags.model.directory) / "config.json").string();
  if (std::filesystem::exists(config_path)) {
    use_threads_for(io::load_model_config(config_path).hidden_size,
                    train::micro_batch_sequences(options.recipe, 1) * options.recipe.data.sequence_length);
    // The memory plan, before anything is allocated (`lincat plan` prints it in full).
    train::validate(options.recipe);
    std::optional<plan::MemoryPlan> plan;
    try {
      plan = plan::plan_conversion(flags.model.directory, options.recipe, model.device, model.dtype, 0);
    } catch (const UserError& e) {  // e.g. a GPU nvidia-smi cannot see: the run itself reports real errors
      std::cerr << "note: no memory plan (" << e.what() << ")\n";
    }
    if (plan && !plan->fits() && !flags.force) {
      throw UserError("the conversion does not fit in memory (pass --force to run it anyway):\n" + plan::plan_table(*plan));
    }
  }
  return train::run_conversion(options, std::cout, std::cerr, train::stderr_is_terminal());
}

}  // namespace

void add_convert_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<ConvertFlags>();
  CLI::App* command = app.add_subcommand("convert", "train a hybrid linear-attention model from a pretrained one");
  flags->model.add_to(*command);
  add_recipe_flag(*command, flags->recipe);
  add_training_data_flag(*command, flags->data, ".txt, .jsonl (text or Alpaca fields), .json (Alpaca)")->required();
  command->add_option("--out", flags->out, "output directory: model, recipe.yaml, train_log.jsonl")->required();
  add_tokenizer_flag(*command, flags->tokenizer, "MODEL/tokenizer.json, else MODEL/tokenizer.model");
  add_resume_flag(*command, flags->resume);
  flags->seed_given = command->add_option("--seed", flags->seed, "random seed (overrides the recipe)");
  flags->changes.add_to(*command, "the recipe's");
  flags->test_hooks.add_to(*command);
  flags->dist.add_to(*command);
  command->add_flag("--layer-parallel", flags->layer_parallel,
                    "with several processes: stage 1 gives each a block of layers instead of a part of each batch");
  command->add_flag("--force", flags->force, "run even when the memory plan (lincat plan) says it does not fit");
  command->callback([flags, &action] { action = [flags] { return run_convert(*flags); }; });
}

}  // namespace lincat::cli
