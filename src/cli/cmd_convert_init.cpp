// lincat convert-init MODEL --out DIR: an untrained converted model (identity feature maps,
// mixing factor 0.1), the starting point for training and a subject for the diagnostics.
#include <iostream>

#include "cli/commands.h"
#include "cli/flags.h"
#include "lincat/model/converted_model.h"

namespace lincat::cli {
namespace {

struct ConvertInitFlags {
  ModelFlags model;
  std::string out;
  HybridFlags hybrid;
  std::string default_mode = "hybrid";
};

int run_convert_init(const ConvertInitFlags& flags) {
  const attention::HybridConfig hybrid = flags.hybrid.settings();
  const attention::Mode default_mode = attention::parse_mode(flags.default_mode);
  const auto original = load_model(flags.model.directory, flags.model.load_options());
  const auto converted = convert_init(*original, hybrid, default_mode);
  save_model(*converted, flags.out);
  std::cout << flags.out << ": " << converted->config.architecture << " with hybrid attention (window "
            << hybrid.window << ", " << attention::layout_name(hybrid.layout) << ", sinks " << hybrid.sinks << ", "
            << attention::feature_map_name(hybrid.feature_map)
            << " f=" << hybrid.feature_dim << "), default mode " << flags.default_mode << "\n";
  return 0;
}

}  // namespace

void add_convert_init_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<ConvertInitFlags>();
  CLI::App* command = app.add_subcommand("convert-init", "write an untrained converted (hybrid) model");
  flags->model.add_to(*command);
  command->add_option("--out", flags->out, "output model directory")->required();
  flags->hybrid.add_to(*command);
  command->add_option("--default-mode", flags->default_mode, "the mode commands use unless told")
      ->capture_default_str();
  command->callback([flags, &action] { action = [flags] { return run_convert_init(*flags); }; });
}

}  // namespace lincat::cli
