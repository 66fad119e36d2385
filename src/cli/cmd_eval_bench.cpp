// lincat bench eval MODEL: multiple-choice scoring speed on synthetic items shaped like HellaSwag's
// (a shared context, several continuations), per attention mode.
#include <nlohmann/json.hpp>

#include <chrono>
#include <ctime>
#include <iostream>
#include <random>
#include <vector>

#include "cli/cmd_eval_flags.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "lincat/eval/scorer.h"
#include "lincat/util/atomic_file.h"
#include "lincat/util/error.h"
#include "lincat/util/threads.h"

namespace lincat::cli {
namespace {

struct EvalBenchFlags {
  ModelFlags model;
  int64_t items = 1000;
  int64_t choices = 4;
  int64_t context_tokens = 48;
  int64_t continuation_tokens = 16;
  std::string json_path;
};

int run_eval_bench(const EvalBenchFlags& flags) {
  if (flags.items < 1 || flags.choices < 1 || flags.context_tokens < 1 || flags.continuation_tokens < 1) {
    throw UserError("--items, --choices, --context and --continuation must be >= 1");
  }
  const auto model = load_model(flags.model.directory, flags.model.load_options());
  use_threads_for(model->config.hidden_size, eval::kTypicalScoringTokens);  // as `lincat eval`
  const std::vector<attention::Mode> modes = flags.model.modes(*model);
  std::mt19937_64 random(42);
  auto token = [&] { return static_cast<int64_t>(random() % static_cast<uint64_t>(model->config.vocab_size)); };
  std::vector<std::pair<std::vector<int64_t>, std::vector<std::vector<int64_t>>>> items;
  for (int64_t i = 0; i < flags.items; ++i) {
    std::vector<int64_t> context;
    for (int64_t t = 0; t < flags.context_tokens; ++t) context.push_back(token());
    std::vector<std::vector<int64_t>> continuations(static_cast<size_t>(flags.choices));
    for (auto& c : continuations) {
      for (int64_t t = 0; t < flags.continuation_tokens; ++t) c.push_back(token());
    }
    items.emplace_back(std::move(context), std::move(continuations));
  }
  // The modes take turns over slices of the items, so that a change in the machine's load (it is
  // shared) falls on every mode alike and their ratios stay meaningful.
  const int64_t rounds = std::min<int64_t>(flags.items, 10);
  std::vector<eval::Scorer> scorers;
  for (attention::Mode mode : modes) scorers.emplace_back(*model, mode, model->config.max_position_embeddings);
  std::vector<double> seconds(modes.size(), 0.0), cpu_seconds(modes.size(), 0.0);
  for (int64_t round = 0; round < rounds; ++round) {
    const size_t first = static_cast<size_t>(flags.items * round / rounds);
    const size_t last = static_cast<size_t>(flags.items * (round + 1) / rounds);
    for (size_t m = 0; m < modes.size(); ++m) {
      const auto start = std::chrono::steady_clock::now();
      const std::clock_t cpu_start = std::clock();
      for (size_t i = first; i < last; ++i) scorers[m].score(items[i].first, items[i].second);
      cpu_seconds[m] += static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
      seconds[m] += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
  }
  nlohmann::json rows = nlohmann::json::array();
  // CPU seconds beside wall seconds: on a shared machine the wall clock also counts other jobs.
  std::cout << "| mode | items | seconds | CPU seconds | items/s | x first mode |\n"
               "|---|---:|---:|---:|---:|---:|\n";
  for (size_t m = 0; m < modes.size(); ++m) {
    const double ratio = seconds[m] / seconds[0];
    std::cout << "| " << attention::mode_name(modes[m]) << " | " << flags.items << " | " << seconds[m] << " | "
              << cpu_seconds[m] << " | " << static_cast<double>(flags.items) / seconds[m] << " | " << ratio << " |\n";
    rows.push_back({{"mode", attention::mode_name(modes[m])},
                    {"items", flags.items},
                    {"seconds", seconds[m]},
                    {"cpu_seconds", cpu_seconds[m]},
                    {"ratio_to_first_mode", ratio}});
  }
  if (!flags.json_path.empty()) {
    const nlohmann::json out = {{"model", flags.model.directory},
                                {"choices", flags.choices},
                                {"context_tokens", flags.context_tokens},
                                {"continuation_tokens", flags.continuation_tokens},
                                {"runs", rows}};
    write_file_atomically(flags.json_path, out.dump(2) + "\n");
  }
  return 0;
}

}  // namespace

void add_eval_bench_command(CLI::App& bench, Action& action) {
  auto flags = std::make_shared<EvalBenchFlags>();
  CLI::App* command = bench.add_subcommand("eval", "multiple-choice scoring speed (items/s) per attention mode");
  flags->model.add_to(*command);
  flags->model.add_attention_to(*command, true);
  command->add_option("--items", flags->items, "items scored")->capture_default_str();
  command->add_option("--choices", flags->choices, "continuations per item")->capture_default_str();
  command->add_option("--context", flags->context_tokens, "context tokens per item")->capture_default_str();
  command->add_option("--continuation", flags->continuation_tokens, "tokens per continuation")->capture_default_str();
  add_json_flag(*command, flags->json_path);
  command->callback([flags, &action] { action = [flags] { return run_eval_bench(*flags); }; });
}

}  // namespace lincat::cli
