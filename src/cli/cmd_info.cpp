// lincat info MODEL: what a model directory holds.
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/flags.h"
#include "lincat/io/tokenizer.h"

namespace lincat::cli {
namespace {

struct InfoFlags {
  ModelFlags model;
};

int run_info(const InfoFlags& flags) {
  const auto model = load_model(flags.model.directory, flags.model.load_options());
  const ModelConfig& c = model->config;
  std::cout << "directory:      " << model->directory << "\n"
            << "architecture:   " << c.architecture << "\n"
            << "parameters:     " << c.parameter_count() << "\n"
            << "layers:         " << c.num_layers << "\n"
            << "hidden size:    " << c.hidden_size << " (intermediate " << c.intermediate_size << ")\n"
            << "heads:          " << c.num_heads << " query, " << c.num_kv_heads << " key/value, head dim "
            << c.head_dim << "\n"
            << "vocabulary:     " << c.vocab_size << "\n"
            << "rope:           theta " << c.rope_theta
            << (c.rope_scaling ? ", scaling " + c.rope_scaling->kind : std::string()) << "\n"
            << "sliding window: " << (c.sliding_window ? std::to_string(*c.sliding_window) : "none") << "\n"
            << "tied embedding: " << (c.tie_word_embeddings ? "yes" : "no") << "\n";
  std::cout << "stored dtypes: ";
  for (const auto& [dtype, count] : model->stored_dtypes) std::cout << " " << dtype << " x" << count;
  std::cout << "\ncompute:        " << dtype_name(model->dtype) << " on " << model->device.str() << "\n";
  std::cout << "files:\n";
  for (const std::string& file : model->weight_files) {
    std::cout << "  " << file << " (" << std::filesystem::file_size(file) << " bytes)\n";
  }
  const std::string tokenizer_path = io::Tokenizer::find_in(model->directory);
  if (!tokenizer_path.empty()) {
    const auto tokenizer = io::Tokenizer::load(tokenizer_path);
    std::cout << "  " << tokenizer_path << " (" << tokenizer->describe() << ")\n";
  } else {
    std::cout << "tokenizer:      none (commands take token ids)\n";
  }
  return 0;
}

}  // namespace

void add_info_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<InfoFlags>();
  CLI::App* command = app.add_subcommand("info", "architecture, parameter count, dtypes and files of a model");
  flags->model.add_to(*command);
  command->callback([flags, &action] { action = [flags] { return run_info(*flags); }; });
}

}  // namespace lincat::cli
