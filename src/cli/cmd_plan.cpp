// lincat plan MODEL --recipe R: the peak memory of each phase of a conversion, from config.json
// and the recipe alone, against the device's memory, with the settings that make it fit.
#include <iostream>

#include "cli/commands.h"
#include "cli/flags.h"
#include "lincat/plan/memory_plan.h"
#include "lincat/util/error.h"
#include "lincat/util/memory.h"

namespace lincat::cli {
namespace {

struct PlanFlags {
  ModelFlags model;
  std::string recipe;
  std::string memory;
  RecipeFlags changes;
  bool json = false;
};

int run_plan(const PlanFlags& flags) {
  train::Recipe recipe;
  try {
    recipe = train::load_recipe(flags.recipe);
  } catch (const UserError& e) {
    throw UserError(std::string("--recipe: ") + e.what());
  }
  train::apply_overrides(recipe, flags.changes.overrides());
  train::validate(recipe);
  const uint64_t memory = flags.memory.empty() ? 0 : parse_byte_size(flags.memory, "--memory");
  const plan::MemoryPlan plan =
      plan::plan_conversion(flags.model.directory, recipe, flags.model.device, flags.model.dtype, memory);
  if (flags.json) {
    std::cout << plan::plan_json(plan).dump(2) << "\n";
  } else {
    std::cout << plan::plan_table(plan);
  }
  return 0;
}

}  // namespace

void add_plan_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<PlanFlags>();
  CLI::App* command = app.add_subcommand("plan", "peak memory of each phase of a conversion, before running it");
  flags->model.add_to(*command);
  add_recipe_flag(*command, flags->recipe);
  command->add_option("--memory", flags->memory,
                      "the device's memory (24GiB, 40GB, ...); default: the GPU's total (nvidia-smi) or the machine's RAM");
  flags->changes.add_to(*command, "the recipe's");
  command->add_flag("--json", flags->json, "print the plan as JSON");
  command->callback([flags, &action] { action = [flags] { return run_plan(*flags); }; });
}

}  // namespace lincat::cli
