// lincat random-model --out DIR: a Llama with random weights (for tests, benchmarks, experiments).
#include <iostream>

#include "cli/commands.h"
#include "lincat/io/hf_config.h"
#include "lincat/model/random_model.h"
#include "lincat/util/error.h"

namespace lincat::cli {
namespace {

struct RandomModelFlags {
  std::string out;
  int64_t parameters = 0;
  std::string config;
  uint64_t seed = 0;
};

int run_random_model(const RandomModelFlags& flags) {
  if (flags.config.empty() == (flags.parameters <= 0)) throw UserError("give exactly one of --params and --config");
  const ModelConfig config = flags.config.empty() ? llama_config_of_size(flags.parameters)
                                                  : io::load_model_config(flags.config);
  write_random_model(flags.out, config, flags.seed);
  std::cout << flags.out << ": " << config.architecture << ", " << config.parameter_count() << " parameters\n";
  return 0;
}

}  // namespace

void add_random_model_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<RandomModelFlags>();
  CLI::App* command = app.add_subcommand("random-model", "write a model directory with random weights");
  command->add_option("--out", flags->out, "output directory")->required();
  command->add_option("--params", flags->parameters, "about this many parameters (Llama proportions)");
  command->add_option("--config", flags->config, "or exactly this config.json");
  command->add_option("--seed", flags->seed, "random seed")->capture_default_str();
  command->callback([flags, &action] { action = [flags] { return run_random_model(*flags); }; });
}

}  // namespace lincat::cli
