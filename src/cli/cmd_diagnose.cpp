// lincat diagnose MODEL --base BASE --tasks ... --out DIR: is the linear branch used? Every mode on
// the same tasks and long-range probes, per-layer linear usage, report.md/json and SVG plots.
#include <iostream>

#include "cli/cmd_eval_flags.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "lincat/eval/diagnose_report.h"
#include "lincat/eval/scorer.h"
#include "lincat/eval/text_encoder.h"
#include "lincat/util/threads.h"

namespace lincat::cli {
namespace {

struct DiagnoseFlags {
  ModelFlags model;
  TaskFlags tasks;
  std::string base;
  std::string out;
  ProbeFlags probes{8};
};

int run_diagnose(const DiagnoseFlags& flags) {
  eval::DiagnoseSettings settings;
  settings.tasks = flags.tasks.load_tasks();
  settings.limit = flags.tasks.limit;
  settings.probe_items = flags.probes.items;
  settings.seed = flags.probes.seed;
  settings.add_bos = eval::parse_add_bos(flags.tasks.add_bos);
  const LoadOptions options = flags.model.load_options();
  const auto model = load_model(flags.model.directory, options);
  const auto base = load_model(flags.base, options);
  use_threads_for(model->config.hidden_size, eval::kTypicalScoringTokens);
  const auto tokenizer = io::Tokenizer::load(eval::tokenizer_path(flags.tasks.tokenizer, *model));
  const eval::DiagnoseReport report =
      eval::diagnose(*model, flags.model.directory, *base, flags.base, *tokenizer, settings);
  const std::vector<std::string> written = eval::write_diagnose_report(report, flags.out);
  std::cout << report.verdict.line << "\n";
  for (const std::string& path : written) std::cout << "wrote " << path << "\n";
  return 0;
}

}  // namespace

void add_diagnose_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<DiagnoseFlags>();
  CLI::App* command =
      app.add_subcommand("diagnose", "is the linear branch used? every attention mode, probes, per-head usage, report");
  flags->model.add_to(*command);
  flags->tasks.add_to(*command, true);
  command->add_option("--base", flags->base, "the original model, scored in softmax mode")->required();
  command->add_option("--out", flags->out, "report directory")->required();
  flags->probes.add_to(*command);
  command->callback([flags, &action] { action = [flags] { return run_diagnose(*flags); }; });
}

}  // namespace lincat::cli
