// The report of `lincat demo`: for each recipe, the paper's Table 1 for this model (arXiv
// 2510.05901: base, hybrid, window only, linear only, sinks only, none; recovered performance)
// with the linear share beside it, then one summary table across recipes; as Markdown (also
// printed), JSON, and two SVG bar charts. Every file is written atomically.
#pragma once
#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "lincat/eval/diagnose.h"

namespace lincat::demo {

// One converted recipe: its diagnostics (bits per byte on the perplexity text in each mode's
// perplexity) and the wall time of each phase.
struct RecipeOutcome {
  std::string recipe;
  std::string directory;  // the converted model, with recipe.yaml, train_log.jsonl and diagnose/
  eval::DiagnoseReport diagnose;
  double convert_seconds = 0;
  double diagnose_seconds = 0;
};

// The numbers of one conversion that the seed table spreads: task averages and probe accuracies
// beyond w per mode (fractions), and the mean linear share.
struct SeedScores {
  uint64_t seed = 0;
  std::map<std::string, double> task_average;   // mode name -> task average
  std::map<std::string, double> probes_beyond;  // mode name -> probe accuracy beyond w
  double linear_share = 0;
};

// SeedScores of a finished conversion.
SeedScores seed_scores(const RecipeOutcome& outcome, uint64_t seed);

struct DemoReport {
  std::string teacher;
  std::string conversion_data;
  std::string heldout_dir;
  std::string perplexity_text;  // "" when none was scored
  std::vector<RecipeOutcome> recipes;  // the first seed of each recipe
  // Every seed of each recipe (demo --seeds N), in recipe order: mean and spread across seeds.
  std::vector<std::pair<std::string, std::vector<SeedScores>>> seeds;
  // Each recipe's hybrid mode against lolcats', item by item and window by window of the
  // perplexity text (first seed; empty without lolcats).
  std::vector<eval::PairedDifference> against_lolcats;
  double total_seconds = 0;
};

// Per recipe with more than one seed: mean, standard deviation and range of each number.
std::string seeds_table_markdown(const DemoReport& report);

// The Table 1 rows of one recipe (tasks, average, recovered, probes beyond w, bits per byte),
// under a heading that gives its linear share and verdict.
std::string recipe_table_markdown(const RecipeOutcome& outcome);

// One row per recipe: base, hybrid, window and linear task averages, hybrid's recovered
// performance, beyond-window probe accuracy per mode, linear share, verdict.
std::string summary_table_markdown(const DemoReport& report);

std::string demo_markdown(const DemoReport& report);  // both, with inputs and phase times
nlohmann::json demo_json(const DemoReport& report);

// Writes demo_report.md, demo_report.json, linear_share.svg and probes_beyond_window.svg into
// `directory` (created if needed); returns the paths written.
std::vector<std::string> write_demo_report(const DemoReport& report, const std::string& directory);

}  // namespace lincat::demo
