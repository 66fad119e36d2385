// lincat convert-init MODEL --out DIR: an untrained converted model (identity feature maps,
// mixing factor 0.1), the starting point for training and a subject for the diagnostics.
// With --from-peft DIR or --from-lolcats FILE: the converted model an export holds (lincat export).
#include <iostream>

#include "cli/commands.h"
#include "cli/flags.h"
#include "lincat/io/export_formats.h"
#include "lincat/model/converted_model.h"

namespace lincat::cli {
namespace {

struct ConvertInitFlags {
  ModelFlags model;
  std::string out;
  HybridFlags hybrid;
  std::string default_mode = "hybrid";
  std::string from_peft;     // a `lincat export --format peft` directory
  std::string from_lolcats;  // a `lincat export --format lolcats` tensors file
};

int run_import(const ConvertInitFlags& flags) {
  const auto original = load_model(flags.model.directory, flags.model.load_options());
  const bool peft = !flags.from_peft.empty();
  const auto converted = peft ? io::import_peft(*original, flags.from_peft) : io::import_lolcats(*original, flags.from_lolcats);
  save_model(*converted, flags.out);
  const attention::HybridConfig& hybrid = *converted->config.hybrid;
  std::cout << flags.out << ": " << converted->config.architecture << " with hybrid attention (window " << hybrid.window
            << ", " << attention::layout_name(hybrid.layout) << ", " << attention::feature_map_name(hybrid.feature_map)
            << " f=" << hybrid.feature_dim << ")"
            << (converted->config.lora ? ", LoRA rank " + std::to_string(converted->config.lora->rank) : "")
            << ", from " << (peft ? flags.from_peft : flags.from_lolcats) << "\n";
  return 0;
}

int run_convert_init(const ConvertInitFlags& flags) {
  if (!flags.from_peft.empty() || !flags.from_lolcats.empty()) return run_import(flags);
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
  CLI::Option* peft = command->add_option("--from-peft", flags->from_peft,
                                          "take attention and LoRA from a `lincat export --format peft` directory");
  CLI::Option* lolcats = command->add_option("--from-lolcats", flags->from_lolcats,
                                             "take attention and LoRA from a `lincat export --format lolcats` .safetensors");
  peft->excludes(lolcats);
  std::vector<std::string> settings = HybridFlags::flag_names();
  settings.push_back("--default-mode");
  for (const std::string& setting : settings) {
    peft->excludes(setting);
    lolcats->excludes(setting);
  }
  command->callback([flags, &action] { action = [flags] { return run_convert_init(*flags); }; });
}

}  // namespace lincat::cli
