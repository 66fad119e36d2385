// lincat diagnose MODEL --base BASE --tasks ... --out DIR: is the linear branch used? Every mode on
// the same tasks and long-range probes, per-layer linear usage, report.md/json and SVG plots.
#include <filesystem>
#include <iostream>

#include "cli/cmd_eval_flags.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "lincat/eval/diagnose_report.h"
#include "lincat/eval/record_files.h"
#include "lincat/eval/scorer.h"
#include "lincat/eval/text_encoder.h"
#include "lincat/util/error.h"
#include "lincat/util/threads.h"

namespace lincat::cli {
namespace {

struct DiagnoseFlags {
  ModelFlags model;
  TaskFlags tasks;
  std::string base;
  std::string out;
  ProbeFlags probes{8};
  std::string usage_text;
  int64_t usage_sequences = 64;
  int64_t usage_length = 0;  // 0: four windows
  std::string perplexity_text;
  PerplexityWindowFlags perplexity;
};

int run_diagnose(const DiagnoseFlags& flags) {
  eval::DiagnoseSettings settings;
  settings.tasks = flags.tasks.load_tasks();
  settings.limit = flags.tasks.limit;
  settings.probe_items = flags.probes.items;
  settings.seed = flags.probes.seed;
  settings.add_bos = eval::parse_add_bos(flags.tasks.add_bos);
  settings.progress = item_progress;
  // Cheap inputs before the models load: the usage text, a given tokenizer, the output folder.
  std::string usage_text;
  if (!flags.usage_text.empty()) {
    usage_text = eval::read_text_file(flags.usage_text);
    if (usage_text.empty()) throw UserError("--usage-text " + flags.usage_text + ": empty file");
  }
  std::string perplexity_text;
  if (!flags.perplexity_text.empty()) {
    perplexity_text = eval::read_text_file(flags.perplexity_text);
    if (perplexity_text.empty()) throw UserError("--perplexity-text " + flags.perplexity_text + ": empty file");
  }
  if (flags.usage_sequences < 2) throw UserError("--usage-sequences must be >= 2 (intervals resample sequences)");
  if (!flags.tasks.tokenizer.empty()) io::Tokenizer::resolve(flags.tasks.tokenizer);
  if (std::filesystem::exists(flags.out) && !std::filesystem::is_directory(flags.out)) {
    throw UserError("--out " + flags.out + ": exists and is not a directory");
  }
  const LoadOptions options = flags.model.load_options();
  const auto model = load_model(flags.model.directory, options);
  const auto base = load_model(flags.base, options);
  use_threads_for(model->config.hidden_size, eval::kTypicalScoringTokens);
  const auto tokenizer = io::Tokenizer::load(eval::tokenizer_path(flags.tasks.tokenizer, *model));
  if (!usage_text.empty() && model->config.hybrid) {
    const int64_t length = flags.usage_length > 0 ? flags.usage_length : 4 * model->config.hybrid->window;
    settings.usage_sequences = eval::text_sequences(tokenizer->encode(usage_text), eval::bos_token(*tokenizer, *model),
                                                    length, flags.usage_sequences, "--usage-text " + flags.usage_text);
    settings.usage_source = std::to_string(flags.usage_sequences) + " sequences of " + std::to_string(length) +
                            " tokens from " + flags.usage_text;
  }
  if (!perplexity_text.empty()) {
    settings.perplexity = eval::perplexity_text(*tokenizer, eval::bos_encoder(*tokenizer, *model, settings.add_bos), *model,
                                                perplexity_text, flags.perplexity_text, flags.perplexity.window,
                                                flags.perplexity.stride);
  }
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
  command->add_option("--usage-text", flags->usage_text,
                      "held-out prose to measure linear usage on, per layer and head with 95% intervals "
                      "(default: 2 synthetic passkey contexts, no interval)");
  command->add_option("--usage-sequences", flags->usage_sequences, "sequences cut from --usage-text")
      ->capture_default_str();
  command->add_option("--usage-length", flags->usage_length, "tokens per usage sequence (default: 4 windows)");
  add_perplexity_text_flag(*command, flags->perplexity_text);
  flags->perplexity.add_to(*command);
  command->callback([flags, &action] { action = [flags] { return run_diagnose(*flags); }; });
}

}  // namespace lincat::cli
