#include "lincat/demo/demo.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>

#include "lincat/eval/diagnose_report.h"
#include "lincat/eval/evaluate.h"
#include "lincat/eval/record_files.h"
#include "lincat/eval/task_readers.h"
#include "lincat/eval/text_encoder.h"
#include "lincat/train/convert.h"
#include "lincat/util/error.h"
#include "lincat/util/stopwatch.h"

namespace lincat::demo {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kUsageSequences = 64;  // held-out sequences the linear usage is measured on

std::string clock_text(double seconds) {
  const auto s = static_cast<long long>(seconds + 0.5);
  char text[32];
  std::snprintf(text, sizeof text, "%lld:%02lld", s / 60, s % 60);
  return text;
}

// The recipe from RECIPES_DIR/<name>.yaml with the demo's overrides; its token cache goes under
// OUT/cache unless the recipe or an override names one.
train::Recipe demo_recipe(const DemoOptions& o, const std::string& name) {
  train::Recipe recipe = train::load_recipe((fs::path(o.recipes_dir) / (name + ".yaml")).string());
  if (recipe.data.cache_dir.empty()) recipe.data.cache_dir = (fs::path(o.out_dir) / "cache").string();
  train::apply_overrides(recipe, o.overrides);
  train::validate(recipe);
  return recipe;
}

}  // namespace

const std::vector<std::string>& demo_recipe_names() {
  static const std::vector<std::string> names = {"lolcats", "hedgecats", "ssd", "linear"};
  return names;
}

DemoResult run_demo(const DemoOptions& o, std::ostream& out, std::ostream& progress, bool terminal) {
  const SteadyClock::time_point start = SteadyClock::now();
  DemoResult result;
  DemoReport& report = result.report;
  report.teacher = o.teacher;
  report.conversion_data = o.conversion_data;
  report.heldout_dir = o.heldout_dir;
  report.perplexity_text = o.perplexity_text;

  // Everything that can be wrong with the inputs fails here, before minutes of training.
  std::vector<train::Recipe> recipes;
  for (const std::string& name : o.recipes) recipes.push_back(demo_recipe(o, name));
  eval::DiagnoseSettings settings;
  for (const std::string& task : o.tasks) settings.tasks.push_back(eval::load_task(task, o.heldout_dir, 0));
  settings.limit = o.task_limit;
  settings.probe_items = o.probe_items;
  settings.seed = o.probe_seed;
  settings.progress = o.progress;
  const auto teacher = load_model(o.teacher, o.load);
  // Probe contexts (the distance plus the question) must fit the positions the teacher was trained on.
  settings.max_probe_distance = teacher->config.max_position_embeddings - 64;
  const auto tokenizer = io::Tokenizer::load(eval::tokenizer_path("", *teacher));
  std::vector<int64_t> prose_tokens;  // the perplexity text's ids alone, for the usage sequences
  if (!o.perplexity_text.empty()) {
    // Bits per byte in every mode over windows of max_position_embeddings tokens that overlap by one
    // token (lm-evaluation-harness's rolling windows): each token is forwarded once, half the cost of
    // eval's default half-window stride, which the demo's time budget cannot afford in 7 modes.
    const std::string text = eval::read_text_file(o.perplexity_text);
    const int64_t window = teacher->config.max_position_embeddings;
    settings.perplexity = eval::perplexity_text(*tokenizer, eval::bos_encoder(*tokenizer, *teacher), *teacher, text,
                                                o.perplexity_text, window, window - 1);
    prose_tokens = tokenizer->encode(text);
  }

  // The teacher's scores per window: every conversion with that window is compared with the same ones.
  std::map<int64_t, eval::ModeScores> teacher_scores;
  const size_t seeds = static_cast<size_t>(std::max(1, o.seeds));
  const size_t n = recipes.size() * seeds;  // conversions
  for (size_t r = 0; r < recipes.size(); ++r) {
    std::vector<SeedScores> runs;
    for (size_t k = 0; k < seeds; ++k) {
      const size_t i = r * seeds + k;  // this conversion's place in the run
      train::Recipe recipe = recipes[r];
      recipe.seed += k;
      RecipeOutcome outcome;
      outcome.recipe = o.recipes[r];
      outcome.directory =
          (fs::path(o.out_dir) / (k == 0 ? outcome.recipe : outcome.recipe + ".seed" + std::to_string(recipe.seed))).string();
      const std::string label = outcome.recipe + (seeds > 1 ? " seed " + std::to_string(recipe.seed) : "");
      const double elapsed = seconds_since(start);
      const std::string eta = i == 0 ? "unknown until the first recipe is done"
                                     : clock_text(elapsed / static_cast<double>(i) * static_cast<double>(n - i));
      out << "\n== [" << i + 1 << "/" << n << "] " << label << ": conversion (stage 1 "
          << train::stage_steps(recipe.stage1, recipe.data) << " steps, stage 2 " << train::stage_steps(recipe.stage2, recipe.data)
          << " steps) | elapsed " << clock_text(elapsed) << ", demo ETA " << eta << "\n";
      out.flush();

      SteadyClock::time_point phase = SteadyClock::now();
      std::error_code error;
      fs::remove_all(outcome.directory, error);
      if (error) throw UserError(outcome.directory + ": cannot replace (" + error.message() + ")");
      train::ConvertOptions convert;
      convert.model_dir = o.teacher;
      convert.data = {o.conversion_data};
      convert.out_dir = outcome.directory;
      convert.recipe = recipe;
      convert.load = o.load;
      result.exit_code = train::run_conversion(convert, out, progress, terminal);
      if (result.exit_code != 0) return result;
      outcome.convert_seconds = seconds_since(phase);

      out << "== [" << i + 1 << "/" << n << "] " << label << ": diagnostics (" << o.tasks.size()
          << " tasks and 2 probes in 7 modes) | conversion took " << clock_text(outcome.convert_seconds) << "\n";
      out.flush();
      phase = SteadyClock::now();
      const auto model = load_model(outcome.directory, o.load);
      // Usage on the held-out prose: 64 sequences of four windows, as many as the text holds (at
      // least 2, else diagnose's synthetic fallback).
      const int64_t length = 4 * model->config.hybrid->window, bos = eval::bos_token(*tokenizer, *model);
      const int64_t count =
          std::min<int64_t>(kUsageSequences, static_cast<int64_t>(prose_tokens.size()) / (bos >= 0 ? length - 1 : length));
      settings.usage_sequences.clear();
      if (count >= 2) {
        settings.usage_sequences = eval::text_sequences(prose_tokens, bos, length, count, o.perplexity_text);
        settings.usage_source = std::to_string(count) + " sequences of " + std::to_string(length) +
                                " tokens of held-out prose (" + o.perplexity_text + ")";
      }
      const auto scored = teacher_scores.find(model->config.hybrid->window);
      settings.base_scores.reset();
      if (scored != teacher_scores.end()) settings.base_scores = scored->second;
      outcome.diagnose = eval::diagnose(*model, outcome.directory, *teacher, o.teacher, *tokenizer, settings);
      teacher_scores.emplace(outcome.diagnose.window, outcome.diagnose.modes.front());
      eval::write_diagnose_report(outcome.diagnose, (fs::path(outcome.directory) / "diagnose").string());
      outcome.diagnose_seconds = seconds_since(phase);
      out << "diagnostics took " << clock_text(outcome.diagnose_seconds) << "\n\n" << recipe_table_markdown(outcome);
      out.flush();
      runs.push_back(seed_scores(outcome, recipe.seed));
      if (k == 0) report.recipes.push_back(std::move(outcome));
    }
    report.seeds.emplace_back(o.recipes[r], std::move(runs));
  }
  // Each recipe against lolcats, item by item in hybrid mode (the first seed of each).
  const auto lolcats = std::find_if(report.recipes.begin(), report.recipes.end(),
                                    [](const RecipeOutcome& x) { return x.recipe == "lolcats"; });
  for (const RecipeOutcome& x : report.recipes) {
    if (lolcats == report.recipes.end() || x.recipe == "lolcats") continue;
    const auto hybrid = [](const eval::DiagnoseReport& d) {
      return *std::find_if(d.modes.begin(), d.modes.end(), [](const eval::ModeScores& m) { return m.name == "hybrid"; });
    };
    for (eval::PairedDifference& d : eval::compare_paired(hybrid(x.diagnose), hybrid(lolcats->diagnose), x.diagnose.window,
                                                          x.diagnose.window_reach, x.recipe, "lolcats")) {
      report.against_lolcats.push_back(std::move(d));
    }
  }

  report.total_seconds = seconds_since(start);
  out << "\n== Summary (scores in %)\n\n" << summary_table_markdown(report) << "\n" << seeds_table_markdown(report);
  result.written = write_demo_report(report, o.out_dir);
  return result;
}

}  // namespace lincat::demo
