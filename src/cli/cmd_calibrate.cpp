// lincat calibrate MODEL --data PATH... --out DIR: gamma-only calibration of a converted model
// for the mode it will run in (inference-time hybridisation of a linear-only conversion): every
// weight but the mixing logits frozen, a few hundred tokens of text, held-out loss in hybrid and
// overlap mode before and after.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/flags.h"
#include "lincat/attention/key_sets.h"
#include "lincat/io/tokenizer.h"
#include "lincat/model/converted_model.h"
#include "lincat/train/calibrate.h"
#include "lincat/train/data.h"
#include "lincat/util/atomic_file.h"
#include "lincat/util/error.h"
#include "lincat/util/threads.h"

namespace lincat::cli {
namespace {

namespace fs = std::filesystem;

struct CalibrateFlags {
  ModelFlags model;
  std::vector<std::string> data;
  std::string out;
  std::string tokenizer;
  std::string format = "auto";
  std::string mode = "hybrid";
  int64_t tokens = 512;
  int64_t held_out_tokens = 2048;
  int64_t sequence_length = 0;
  train::CalibrationSettings settings;
};

int64_t sequences_for(int64_t tokens, int64_t length) { return (tokens + length - 1) / length; }

nlohmann::json point_json(const train::CalibrationPoint& p) {
  return {{"held_out_loss", p.held_out_loss}, {"mean_gamma", p.mean_gamma}, {"gamma", p.gamma}};
}

int run_calibrate(CalibrateFlags flags) {
  // Cheap inputs first: a bad path fails before the model loads.
  for (const std::string& path : flags.data) {
    if (!fs::is_regular_file(path)) throw UserError("--data " + path + ": no such file");
  }
  if (fs::exists(flags.out) && !fs::is_directory(flags.out)) throw UserError("--out " + flags.out + ": not a directory");
  const std::string tokenizer_path =
      flags.tokenizer.empty() ? io::Tokenizer::find_in(flags.model.directory) : io::Tokenizer::resolve(flags.tokenizer);
  if (tokenizer_path.empty()) throw UserError(flags.model.directory + ": no tokenizer; pass --tokenizer PATH");
  flags.settings.mode = attention::parse_mode(flags.mode);
  if (!attention::softmax_branch_is_mixed(flags.settings.mode)) {
    throw UserError("--mode " + flags.mode + ": only hybrid or overlap mix the two branches with gamma");
  }
  if (flags.tokens < 1 || flags.held_out_tokens < 1 || flags.settings.steps < 1 || !(flags.settings.learning_rate > 0)) {
    throw UserError("--tokens, --held-out-tokens, --steps and --learning-rate must be positive");
  }
  const auto tokenizer = io::Tokenizer::load(tokenizer_path);
  std::vector<train::Example> examples;
  for (const std::string& path : flags.data) {
    for (train::Example& e : train::read_examples(path, flags.format)) examples.push_back(std::move(e));
  }

  auto model = std::make_shared<Model>(*load_model(flags.model.directory, flags.model.load_options()));
  if (!model->config.hybrid) throw UserError(flags.model.directory + " is not a converted model: calibrate needs one");
  // Four windows per sequence by default: most positions then have keys beyond the window.
  const int64_t length = flags.sequence_length > 0
                             ? flags.sequence_length
                             : std::min<int64_t>(4 * model->config.hybrid->window, model->config.max_position_embeddings);
  const train::Encoder encode = [&](const std::string& text) { return tokenizer->encode(text); };
  const train::TokenSequences all =
      train::pack_examples(examples, encode, tokenizer->bos_id(), tokenizer->eos_id(), length, "--data");
  const int64_t n_train = sequences_for(flags.tokens, length), n_held = sequences_for(flags.held_out_tokens, length);
  if (all.count() < n_train + n_held) {
    throw UserError("--data: " + std::to_string(all.count()) + " sequences of " + std::to_string(length) +
                    " tokens; calibration needs " + std::to_string(n_train + n_held) + " (--tokens " +
                    std::to_string(flags.tokens) + " and --held-out-tokens " + std::to_string(flags.held_out_tokens) + ")");
  }
  const train::TokenSequences train_part{all.ids.narrow(0, 0, n_train), all.loss_mask.narrow(0, 0, n_train)};
  const train::TokenSequences held_part{all.ids.narrow(0, n_train, n_held), all.loss_mask.narrow(0, n_train, n_held)};
  use_threads_for(model->config.hidden_size, n_train * length);

  const train::CalibrationReport report = train::calibrate_gamma(*model, train_part, held_part, flags.settings);
  model->config.default_mode = flags.settings.mode;
  save_model(*model, flags.out);
  if (io::Tokenizer::find_in(flags.out).empty()) io::copy_tokenizer(tokenizer_path, flags.out);
  const nlohmann::json record = {{"model", flags.model.directory}, {"mode", flags.mode},
                                 {"train_tokens", report.train_tokens}, {"held_out_tokens", report.held_out_tokens},
                                 {"sequence_length", length}, {"steps", report.steps},
                                 {"learning_rate", flags.settings.learning_rate},
                                 {"eval_interval", flags.settings.eval_interval}, {"best_step", report.best_step},
                                 {"held_out_curve", report.held_out_curve},
                                 {"before", point_json(report.before)}, {"after", point_json(report.after)}};
  write_file_atomically((fs::path(flags.out) / "calibration.json").string(), record.dump(2) + "\n");

  std::cout << flags.out << ": gamma calibrated for " << flags.mode << " mode on " << report.train_tokens
            << " tokens (" << report.steps << " steps), held out " << report.held_out_tokens << " tokens; kept the gamma of step "
            << report.best_step << " (lowest held-out " << flags.mode << " loss, evaluated every "
            << flags.settings.eval_interval << " steps)\n"
            << "| | mean gamma | hybrid loss | overlap loss |\n|---|---:|---:|---:|\n";
  for (const auto& [name, point] : {std::pair{"before", report.before}, std::pair{"after", report.after}}) {
    char row[160];
    std::snprintf(row, sizeof row, "| %s | %.4f | %.4f | %.4f |\n", name, point.mean_gamma,
                  point.held_out_loss.at("hybrid"), point.held_out_loss.at("overlap"));
    std::cout << row;
  }
  return 0;
}

}  // namespace

void add_calibrate_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<CalibrateFlags>();
  CLI::App* command = app.add_subcommand(
      "calibrate", "tune gamma alone (all else frozen) for the mode a converted model runs in, e.g. a linear-only conversion run hybrid");
  flags->model.add_to(*command);
  add_training_data_flag(*command, flags->data, "the text to calibrate on, .txt, .jsonl, .json (as convert --data)")
      ->required();
  command->add_option("--out", flags->out, "output model directory (with calibration.json)")->required();
  add_tokenizer_flag(*command, flags->tokenizer, "the model's");
  command->add_option("--format", flags->format, "data format: auto, text, jsonl, alpaca")->capture_default_str();
  command->add_option("--mode", flags->mode, "the mode to calibrate for, saved as the default: hybrid or overlap")
      ->capture_default_str();
  command->add_option("--tokens", flags->tokens, "training tokens (the first sequences of --data)")->capture_default_str();
  command->add_option("--held-out-tokens", flags->held_out_tokens, "held-out tokens (the sequences after them)")
      ->capture_default_str();
  command->add_option("--sequence-length", flags->sequence_length, "tokens per sequence (default: 4 windows, at most the model's context)");
  command->add_option("--steps", flags->settings.steps, "optimiser steps")->capture_default_str();
  command->add_option("--learning-rate", flags->settings.learning_rate, "AdamW learning rate on the mixing logits")
      ->capture_default_str();
  command->add_option("--eval-interval", flags->settings.eval_interval,
                      "steps between held-out evaluations; the gamma with the lowest held-out loss is kept")
      ->check(at_least(1))
      ->capture_default_str();
  command->callback([flags, &action] { action = [flags] { return run_calibrate(*flags); }; });
}

}  // namespace lincat::cli
