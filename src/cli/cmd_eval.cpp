// lincat eval MODEL --tasks ... : lm-evaluation-harness-compatible scores in one or more attention
// modes, and perplexity / bits per byte of text files; a Markdown table on stdout, JSON with --output.
#include <algorithm>
#include <filesystem>
#include <iostream>

#include "cli/cmd_eval_flags.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "lincat/eval/record_files.h"
#include "lincat/eval/results_report.h"
#include "lincat/eval/scorer.h"
#include "lincat/eval/text_encoder.h"
#include "lincat/train/examples.h"
#include "lincat/util/atomic_file.h"
#include "lincat/util/error.h"
#include "lincat/util/threads.h"

namespace lincat::cli {
namespace {

struct EvalFlags {
  ModelFlags model;
  TaskFlags tasks;
  std::vector<std::string> texts;
  PerplexityWindowFlags perplexity;
  std::string output;
  bool log_samples = false;
};

// Fails, naming the flag, when a file cannot be written into `path`'s folder: checked before the
// model loads, not after minutes of scoring.
void require_writable_folder(const std::string& flag, const std::string& path) {
  const std::filesystem::path folder = std::filesystem::absolute(path).parent_path();
  if (!std::filesystem::is_directory(folder)) throw UserError(flag + " " + path + ": no such folder " + folder.string());
  if (std::filesystem::is_directory(path)) throw UserError(flag + " " + path + ": is a directory; expected a file name");
}

// A .jsonl text file holds pre-tokenised documents ({"input_ids", "labels"?}), scored as one
// stream of ids without any BOS added (their bytes are unknown: no per-byte metrics).
eval::PerplexityResult text_perplexity(const Model& model, attention::Mode mode, const io::Tokenizer& tokenizer,
                                       eval::AddBos add_bos, const std::string& path, int64_t window,
                                       int64_t stride) {
  if (std::filesystem::path(path).extension() == ".jsonl") {
    std::vector<int64_t> tokens;
    std::vector<bool> targets;
    for (const train::Example& example : train::read_examples(path, "jsonl")) {
      if (example.ids.empty()) throw UserError(path + ": eval --text reads JSONL records with input_ids only");
      tokens.insert(tokens.end(), example.ids.begin(), example.ids.end());
      targets.insert(targets.end(), example.targets.begin(), example.targets.end());
    }
    return eval::strided_perplexity(model, mode, tokens, 0, window, stride, targets);
  }
  const std::string text = eval::read_text_file(path);
  if (text.empty()) throw UserError(path + ": empty text file");
  const std::vector<int64_t> tokens = eval::bos_encoder(tokenizer, model, add_bos)(text);
  return eval::strided_perplexity(model, mode, tokens, static_cast<int64_t>(text.size()), window, stride);
}

eval::TaskResult text_result(const Model& model, attention::Mode mode, const io::Tokenizer& tokenizer,
                             eval::AddBos add_bos, const std::string& path, int64_t window, int64_t stride) {
  const eval::PerplexityResult p = text_perplexity(model, mode, tokenizer, add_bos, path, window, stride);
  eval::TaskResult result;
  result.task = "text:" + std::filesystem::path(path).filename().string();
  result.metrics = {{"token_perplexity", {p.token_perplexity, std::nullopt}}};
  if (p.bytes > 0) {
    result.metrics["bits_per_byte"] = {p.bits_per_byte, std::nullopt};
    result.metrics["byte_perplexity"] = {p.byte_perplexity, std::nullopt};
  }
  result.items = p.tokens;
  return result;
}

int run_eval(const EvalFlags& flags) {
  if (flags.tasks.tasks.empty() && flags.texts.empty()) throw UserError("nothing to evaluate: give --tasks or --text");
  if (flags.log_samples && flags.output.empty()) throw UserError("--log-samples needs --output (the samples go beside it)");
  const std::vector<eval::Task> tasks = flags.tasks.load_tasks();
  // Cheap inputs before the model loads: text files, a given tokenizer, the output folder.
  for (const std::string& path : flags.texts) {
    if (!std::filesystem::is_regular_file(path)) throw UserError("--text " + path + ": no such file");
  }
  if (!flags.tasks.tokenizer.empty()) io::Tokenizer::resolve(flags.tasks.tokenizer);
  if (!flags.output.empty()) require_writable_folder("--output", flags.output);
  const auto model = load_model(flags.model.directory, flags.model.load_options());
  const auto tokenizer = io::Tokenizer::load(eval::tokenizer_path(flags.tasks.tokenizer, *model));
  const eval::AddBos add_bos = eval::parse_add_bos(flags.tasks.add_bos);
  const std::vector<attention::Mode> modes = flags.model.modes(*model);
  const int64_t window = flags.perplexity.window > 0 ? flags.perplexity.window : model->config.max_position_embeddings;
  const int64_t stride = flags.perplexity.stride > 0 ? flags.perplexity.stride : std::max<int64_t>(1, window / 2);
  use_threads_for(model->config.hidden_size, tasks.empty() ? window : eval::kTypicalScoringTokens);

  eval::EvalRun run;
  nlohmann::json mode_names = nlohmann::json::array();
  for (attention::Mode mode : modes) {
    eval::ModeResults results{mode, run_tasks(*model, mode, *tokenizer, tasks, flags.tasks.limit, add_bos)};
    for (const std::string& path : flags.texts) {
      results.tasks.push_back(text_result(*model, mode, *tokenizer, add_bos, path, window, stride));
    }
    run.modes.push_back(std::move(results));
    mode_names.push_back(attention::mode_name(mode));
  }
  for (const eval::Task& task : tasks) run.tasks.push_back(&task);
  const std::string dtype = dtype_name(model->dtype);  // what --dtype (default auto) resolved to
  run.config = {{"model", "lincat"},
                {"model_args", "pretrained=" + flags.model.directory + ",dtype=" + dtype +
                                   ",attention=" + mode_names[0].get<std::string>() + ",add_bos=" + flags.tasks.add_bos},
                {"model_name", flags.model.directory},
                {"attention", mode_names},
                {"limit", flags.tasks.limit > 0 ? nlohmann::json(flags.tasks.limit) : nlohmann::json(nullptr)},
                {"num_fewshot", flags.tasks.num_fewshot},
                {"data_dir", flags.tasks.data_dir},
                {"device", flags.model.device},
                {"dtype", dtype},
                {"texts", flags.texts},
                {"perplexity_window", window},
                {"perplexity_stride", stride},
                {"acc_norm_divisor", "choice length in UTF-8 bytes"},
                {"tokenizer", tokenizer->path()},
                {"add_bos", flags.tasks.add_bos},
                {"bos_added", eval::adds_bos(add_bos, *tokenizer, *model)}};

  const std::string table = eval::results_markdown(run);
  std::cout << table;
  if (!flags.output.empty()) {
    write_file_atomically(flags.output, eval::results_json(run).dump(2) + "\n");
    const std::string markdown = std::filesystem::path(flags.output).replace_extension(".md").string();
    write_file_atomically(markdown, table);
    std::cout << "wrote " << flags.output << " and " << markdown << "\n";
    if (flags.log_samples) {  // samples_<task>[@<mode>].jsonl beside the results
      const std::filesystem::path folder = std::filesystem::absolute(flags.output).parent_path();
      for (const eval::ModeResults& mode : run.modes) {
        for (size_t t = 0; t < tasks.size(); ++t) {
          const std::string path =
              (folder / ("samples_" + eval::result_key(run, mode.mode, tasks[t].name) + ".jsonl")).string();
          write_file_atomically(path, eval::sample_log_jsonl(tasks[t], mode.tasks[t]));
          std::cout << "wrote " << path << "\n";
        }
      }
    }
  }
  return 0;
}

}  // namespace

void add_eval_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<EvalFlags>();
  CLI::App* command = app.add_subcommand("eval", "score tasks (acc, acc_norm as lm-evaluation-harness) and text perplexity");
  flags->model.add_to(*command);
  flags->tasks.add_to(*command, false);
  flags->model.add_attention_to(*command, true);
  command->add_option("--text", flags->texts, "a text file for perplexity and bits per byte (repeatable)");
  flags->perplexity.add_to(*command);
  command->add_option("--output", flags->output,
                      "results JSON in lm-evaluation-harness 0.4's shape (the Markdown table goes beside it as .md)");
  command->add_flag("--log-samples", flags->log_samples,
                    "also write samples_<task>[@<mode>].jsonl beside --output: one line per item (doc_id, arguments, "
                    "resps, target, acc, acc_norm)");
  command->callback([flags, &action] { action = [flags] { return run_eval(*flags); }; });
}

}  // namespace lincat::cli
