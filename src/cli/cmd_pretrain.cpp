// lincat pretrain --data PATH... --out DIR: a Llama-architecture model trained from scratch by a
// config (the built-in `teacher` or a YAML file). Interrupt with Ctrl-C, continue with --resume.
// Runs as several cooperating processes with the distributed flags (docs/SCALING.md).
#include <iostream>

#include "cli/commands.h"
#include "cli/flags.h"
#include "lincat/train/pretrain.h"
#include "lincat/train/progress.h"
#include "lincat/util/error.h"

namespace lincat::cli {
namespace {

struct PretrainFlags {
  std::vector<std::string> data;
  std::string out;
  std::string config = "teacher";
  std::string tokenizer;
  std::string init;
  std::vector<std::string> overrides;
  bool resume = false;
  TestHookFlags test_hooks;
  DistFlags dist;
};

int run_pretrain(const PretrainFlags& flags) {
  train::PretrainOptions options;
  options.data = flags.data;
  options.out_dir = flags.out;
  options.tokenizer = flags.tokenizer;
  options.init_from = flags.init;
  // A run that continues another model keeps that model's tokenizer unless told otherwise.
  if (!flags.init.empty() && flags.tokenizer.empty()) options.tokenizer = flags.init;
  options.resume = flags.resume;
  options.test_hooks = flags.test_hooks.hooks();
  std::string device = "cpu";  // pretraining runs on the CPU
  options.dist = flags.dist.settings(device);
  try {
    options.config = train::load_pretrain_config(flags.config);
  } catch (const UserError& e) {
    throw UserError(std::string("--config: ") + e.what());
  }
  for (const std::string& assignment : flags.overrides) train::apply_pretrain_override(options.config, assignment);
  return train::run_pretraining(options, std::cout, std::cerr, train::stderr_is_terminal());
}

}  // namespace

void add_pretrain_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<PretrainFlags>();
  CLI::App* command = app.add_subcommand("pretrain", "train a Llama-architecture model from scratch");
  add_training_data_flag(*command, flags->data, ".txt, .jsonl (text field), .json (Alpaca)")->required();
  command->add_option("--out", flags->out, "output directory: model, tokenizer, pretrain.yaml, train_log.jsonl")
      ->required();
  command->add_option("--config", flags->config, "config YAML file or built-in: teacher (default)");
  add_tokenizer_flag(*command, flags->tokenizer, "train a SentencePiece model on --data");
  command->add_option("--init", flags->init,
                      "start from this model directory's weights (same shape) instead of random ones, or from an "
                      "interrupted run's --out (its checkpoint's weights); its tokenizer unless --tokenizer");
  add_set_flag(*command, flags->overrides, "a config", "steps=500");
  add_resume_flag(*command, flags->resume);
  flags->test_hooks.add_to(*command);
  flags->dist.add_to(*command);
  command->callback([flags, &action] { action = [flags] { return run_pretrain(*flags); }; });
}

}  // namespace lincat::cli
