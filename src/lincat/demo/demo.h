// `lincat demo`: converts one teacher with several recipes and diagnoses each conversion (every
// attention mode on held-out real-text tasks and long-range probes, per-head linear share, bits
// per byte), then writes every recipe's files and the cross-recipe report (demo_report.h).
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "lincat/demo/demo_report.h"
#include "lincat/model/model.h"
#include "lincat/train/recipe.h"

namespace lincat::demo {

// The recipes the demo runs by default, each read from RECIPES_DIR/<name>.yaml.
const std::vector<std::string>& demo_recipe_names();

struct DemoOptions {
  std::string teacher;          // Hugging Face model directory with tokenizer.model
  std::string conversion_data;  // text the recipes convert on
  std::string heldout_dir;      // task files (`lincat eval --data-dir` format)
  std::vector<std::string> tasks = {"next_sentence", "last_word"};
  std::string perplexity_text;  // "" : no bits per byte
  std::string recipes_dir;      // <recipe>.yaml for each of `recipes`
  std::vector<std::string> recipes = demo_recipe_names();
  std::string out_dir;
  train::RecipeOverrides overrides;  // applied to every recipe
  int64_t task_limit = 0;  // items per task (0: all)
  int probe_items = 16;    // per probe distance: 16 keeps one accuracy within about ±0.12 (binomial)
  uint64_t probe_seed = 1234;
  int seeds = 1;  // conversions per recipe, with the recipe's seed, +1, ...; the first seed's is the recipe's report
  // Jobs at once (conversions, the teacher's scoring, diagnoses), each single-threaded: with 2, one
  // recipe is diagnosed while the next converts. The numbers are those of 1, which runs them in turns.
  int jobs = 2;
  LoadOptions load;
  // Progress of each task, probe and usage pass in each mode (eval's progress lines); empty: none.
  std::function<eval::ItemProgress(const std::string& label)> progress;
};

struct DemoResult {
  int exit_code = 0;  // 0, or a conversion's interrupt code (128 + signal)
  DemoReport report;
  std::vector<std::string> written;  // the top-level report files
};

// Replaces OUT/<recipe> (and OUT/<recipe>.seed<S> for further seeds) for every recipe. `out` gets the stage lines and tables, `progress` the
// conversions' step display (a bar when `terminal`).
DemoResult run_demo(const DemoOptions& options, std::ostream& out, std::ostream& progress, bool terminal);

}  // namespace lincat::demo
