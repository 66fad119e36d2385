// lincat export CONVERTED --format peft|lolcats|merged --out DIR: a conversion for PEFT, the
// LoLCATs code base, or as one model with the LoRA folded in (io/export_formats.h).
#include <iostream>

#include "cli/commands.h"
#include "lincat/io/export_formats.h"

namespace lincat::cli {
namespace {

struct ExportFlags {
  std::string model;
  std::string format;
  std::string out;
  io::ExportOptions options;
};

int run_export(const ExportFlags& flags) {
  const io::ExportFormat format = io::parse_export_format(flags.format);
  for (const std::string& path : io::export_model(flags.model, format, flags.out, flags.options)) {
    std::cout << "wrote " << path << "\n";
  }
  return 0;
}

}  // namespace

void add_export_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<ExportFlags>();
  CLI::App* command = app.add_subcommand("export", "write a converted model for PEFT, LoLCATs, or merged (docs/FORMAT.md)");
  command->add_option("MODEL", flags->model, "converted model directory")->required();
  command->add_option("--format", flags->format, "peft, lolcats or merged")->required();
  command->add_option("--out", flags->out, "output directory")->required();
  command->add_option("--base-model", flags->options.base_model,
                      "the original model's Hugging Face id or path, for base_model_name_or_path (default: MODEL)");
  command->callback([flags, &action] { action = [flags] { return run_export(*flags); }; });
}

}  // namespace lincat::cli
