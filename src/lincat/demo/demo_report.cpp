#include "lincat/demo/demo_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>

#include "lincat/eval/diagnose_report.h"
#include "lincat/eval/svg_plots.h"
#include "lincat/util/atomic_file.h"
#include "lincat/util/error.h"

namespace lincat::demo {
namespace {

// The columns of Table 1, as DiagnoseReport::modes names them, and their headings.
const std::vector<std::pair<std::string, std::string>>& table_columns() {
  static const std::vector<std::pair<std::string, std::string>> columns = {
      {"base", "base"},         {"hybrid", "hybrid"},         {"window", "window only"},
      {"linear", "linear only"}, {"sinks", "sinks only"},     {"none", "none"}};
  return columns;
}

std::string fixed(double value, int digits) {
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, value);
  return buffer;
}

std::string percent(double fraction) { return fixed(100 * fraction, 1); }

const eval::ModeScores* find_mode(const eval::DiagnoseReport& report, const std::string& name) {
  for (const eval::ModeScores& m : report.modes) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

// The mode's scores; a report without it is an internal error (diagnose scores every mode).
const eval::ModeScores& mode(const eval::DiagnoseReport& report, const std::string& name) {
  const eval::ModeScores* m = find_mode(report, name);
  if (m == nullptr) throw std::logic_error("diagnose report without mode " + name);
  return *m;
}

std::string recovered_text(const eval::ModeScores& m) {
  if (m.name == "base") return "100.0";
  return m.recovered ? fixed(*m.recovered, 1) : std::string("—");
}

std::string share_text(const eval::ComponentUsage& usage) {
  return percent(usage.mean_linear_share) + "% of the normaliser, " + percent(usage.mean_linear_output_share) +
         "% of the output";
}

std::string duration(double seconds) {
  const auto s = static_cast<long long>(seconds + 0.5);
  char text[32];
  std::snprintf(text, sizeof text, "%lld:%02lld", s / 60, s % 60);
  return text;
}

// "mean ± sd [min, max]" of `values` in %.
std::string spread_text(const std::vector<double>& values) {
  double mean = 0;
  for (double v : values) mean += v;
  mean /= static_cast<double>(values.size());
  double variance = 0;
  for (double v : values) variance += (v - mean) * (v - mean);
  const double sd = values.size() > 1 ? std::sqrt(variance / static_cast<double>(values.size() - 1)) : 0;
  const auto [low, high] = std::minmax_element(values.begin(), values.end());
  return percent(mean) + " ± " + percent(sd) + " [" + percent(*low) + ", " + percent(*high) + "]";
}

}  // namespace

SeedScores seed_scores(const RecipeOutcome& outcome, uint64_t seed) {
  SeedScores s;
  s.seed = seed;
  for (const eval::ModeScores& m : outcome.diagnose.modes) {
    s.task_average[m.name] = m.task_average;
    s.probes_beyond[m.name] = m.beyond_window_probe_accuracy;
  }
  s.linear_share = outcome.diagnose.usage.mean_linear_share;
  return s;
}

std::string seeds_table_markdown(const DemoReport& report) {
  std::string out =
      "| recipe | seeds | hybrid tasks | window tasks | hybrid probes > w | window probes > w | linear probes > w | "
      "linear share |\n|---|---:|---|---|---|---|---|---|\n";
  bool any = false;
  for (const auto& [recipe, seeds] : report.seeds) {
    if (seeds.size() < 2) continue;
    any = true;
    const auto column = [&seeds = seeds](const std::function<double(const SeedScores&)>& value) {
      std::vector<double> values;
      for (const SeedScores& s : seeds) values.push_back(value(s));
      return spread_text(values);
    };
    out += "| " + recipe + " | " + std::to_string(seeds.size()) + " | " +
           column([](const SeedScores& s) { return s.task_average.at("hybrid"); }) + " | " +
           column([](const SeedScores& s) { return s.task_average.at("window"); }) + " | " +
           column([](const SeedScores& s) { return s.probes_beyond.at("hybrid"); }) + " | " +
           column([](const SeedScores& s) { return s.probes_beyond.at("window"); }) + " | " +
           column([](const SeedScores& s) { return s.probes_beyond.at("linear"); }) + " | " +
           column([](const SeedScores& s) { return s.linear_share; }) + " |\n";
  }
  return any ? out : "";
}

std::string recipe_table_markdown(const RecipeOutcome& o) {
  const eval::DiagnoseReport& r = o.diagnose;
  std::string out = "### " + o.recipe + ": linear share " + share_text(r.usage) + " (verdict: " +
                    eval::verdict_kind_name(r.verdict.kind) + ")\n\nScores in %, window w = " +
                    std::to_string(r.window) + ".\n\n|  |";
  for (const auto& [unused, heading] : table_columns()) out += " " + heading + " |";
  out += "\n|---|";
  for (size_t i = 0; i < table_columns().size(); ++i) out += "---:|";
  out += "\n";
  const auto row = [&](const std::string& label, const std::function<std::string(const eval::ModeScores&)>& cell) {
    out += "| " + label + " |";
    for (const auto& [name, unused] : table_columns()) out += " " + cell(mode(r, name)) + " |";
    out += "\n";
  };
  const std::vector<eval::TaskResult>& first = r.modes.front().tasks;
  for (size_t t = 0; t < first.size(); ++t) {
    row(first[t].task + " (" + first[t].main_metric + ")", [t](const eval::ModeScores& m) {
      return percent(m.tasks.at(t).metrics.at(m.tasks.at(t).main_metric).value);
    });
  }
  row("task average", [](const eval::ModeScores& m) { return percent(m.task_average); });
  row("recovered", [](const eval::ModeScores& m) { return recovered_text(m); });
  row("probes beyond w", [](const eval::ModeScores& m) { return percent(m.beyond_window_probe_accuracy); });
  if (r.modes.front().perplexity) {
    row("bits per byte (lower is better)", [](const eval::ModeScores& m) {
      return m.perplexity ? fixed(m.perplexity->bits_per_byte, 3) : std::string("—");
    });
  }
  out += "\n" + r.verdict.line + "\n";
  return out;
}

std::string summary_table_markdown(const DemoReport& report) {
  std::string out =
      "| recipe | base | hybrid | window | linear | recovered | probes > w: base | hybrid | window | linear | sinks | "
      "none | linear share | verdict |\n|---|";
  for (int i = 0; i < 12; ++i) out += "---:|";
  out += "---|\n";
  for (const RecipeOutcome& o : report.recipes) {
    const eval::DiagnoseReport& r = o.diagnose;
    out += "| " + o.recipe + " |";
    for (const char* name : {"base", "hybrid", "window", "linear"}) out += " " + percent(mode(r, name).task_average) + " |";
    out += " " + recovered_text(mode(r, "hybrid")) + " |";
    for (const char* name : {"base", "hybrid", "window", "linear", "sinks", "none"}) {
      out += " " + percent(mode(r, name).beyond_window_probe_accuracy) + " |";
    }
    out += " " + percent(r.usage.mean_linear_share) + "% |";
    out += " " + eval::verdict_kind_name(r.verdict.kind) + " |\n";
  }
  return out;
}

std::string demo_markdown(const DemoReport& report) {
  std::string out = "# lincat demo\n\nTeacher `" + report.teacher + "`, converted on `" + report.conversion_data +
                    "`; held-out tasks from `" + report.heldout_dir + "`" +
                    (report.perplexity_text.empty() ? std::string() : ", bits per byte on `" + report.perplexity_text + "`") +
                    ". Each recipe is diagnosed as in arXiv 2510.05901 Table 1: the same tasks and long-range probes "
                    "in every attention mode, the base model in softmax.\n\n## Summary\n\nTask averages and probe "
                    "accuracies in %; recovered = hybrid's task average / base's x 100; linear share = the linear "
                    "branch's share of the attention normaliser beyond the window (hybrid mode).\n\n" +
                    summary_table_markdown(report) + "\n";
  const std::string seeds = seeds_table_markdown(report);
  if (!seeds.empty()) {
    out += "## Across seeds\n\nEach recipe converted once per seed (the recipe's seed, +1, +2, ...); in %: mean ± "
           "sample standard deviation [min, max] over the seeds.\n\n" + seeds + "\n";
  }
  if (!report.against_lolcats.empty()) {
    out += "## Each recipe against lolcats (hybrid mode, same items, first seed)\n\nAccuracy difference in points "
           "with a paired bootstrap 95% interval and McNemar's exact p on the items where they disagree "
           "(distinguishable: p < 0.05). Bits per byte: the recipe's minus lolcats' on the same windows of the "
           "perplexity text (negative: the recipe predicts it better; n = windows), the interval from resampling "
           "windows (summed nats over summed bytes per resample); distinguishable: the interval excludes 0.\n\n"
           "| items | recipe - lolcats | n | difference [95%] | McNemar p | |\n|---|---|---:|---|---:|---|\n";
    for (const eval::PairedDifference& d : report.against_lolcats) {
      out += "| " + d.what + " | " + d.a + " - " + d.b + " | " + std::to_string(d.items) + " | " +
             eval::difference_text(d) + " | " +
             (d.metric == eval::PairedMetric::Accuracy ? fixed(d.p_value, 3) : std::string("—")) + " | " +
             (d.distinguishable ? "distinguishable" : "not distinguishable") + " |\n";
    }
    out += "\n";
  }
  out += "## Per recipe\n\n";
  for (const RecipeOutcome& o : report.recipes) {
    out += recipe_table_markdown(o) + "\nFull report: `" + o.recipe + "/diagnose/report.md`.\n\n";
  }
  out += "## Wall time\n\n| recipe | conversion | diagnostics |\n|---|---:|---:|\n";
  for (const RecipeOutcome& o : report.recipes) {
    out += "| " + o.recipe + " | " + duration(o.convert_seconds) + " | " + duration(o.diagnose_seconds) + " |\n";
  }
  out += "\nTotal " + duration(report.total_seconds) + " (minutes:seconds).\n\nPlots: linear_share.svg, "
         "probes_beyond_window.svg; per recipe in <recipe>/diagnose/.\n";
  return out;
}

nlohmann::json demo_json(const DemoReport& report) {
  nlohmann::json recipes = nlohmann::json::array();
  for (const RecipeOutcome& o : report.recipes) {
    const eval::DiagnoseReport& r = o.diagnose;
    nlohmann::json modes = nlohmann::json::object();
    for (const eval::ModeScores& m : r.modes) {
      modes[m.name] = {{"task_average", m.task_average},
                       {"recovered", m.name == "base" ? nlohmann::json(100.0)
                                     : m.recovered    ? nlohmann::json(*m.recovered)
                                                      : nlohmann::json(nullptr)},
                       {"probe_accuracy_beyond_window", m.beyond_window_probe_accuracy},
                       {"bits_per_byte", m.perplexity ? nlohmann::json(m.perplexity->bits_per_byte) : nlohmann::json(nullptr)}};
    }
    recipes.push_back({{"recipe", o.recipe},
                       {"directory", o.directory},
                       {"window", r.window},
                       {"modes", modes},
                       {"mean_linear_share", r.usage.mean_linear_share},
                       {"mean_linear_output_share", r.usage.mean_linear_output_share},
                       {"verdict", eval::verdict_kind_name(r.verdict.kind)},
                       {"verdict_line", r.verdict.line},
                       {"seconds", {{"conversion", o.convert_seconds}, {"diagnostics", o.diagnose_seconds}}}});
  }
  nlohmann::json seeds = nlohmann::json::object();
  for (const auto& [recipe, runs] : report.seeds) {
    for (const SeedScores& s : runs) {
      seeds[recipe].push_back({{"seed", s.seed}, {"task_average", s.task_average},
                               {"probe_accuracy_beyond_window", s.probes_beyond}, {"mean_linear_share", s.linear_share}});
    }
  }
  return {{"teacher", report.teacher},
          {"seeds", seeds},
          {"against_lolcats", eval::paired_json(report.against_lolcats)},
          {"conversion_data", report.conversion_data},
          {"heldout_dir", report.heldout_dir},
          {"perplexity_text", report.perplexity_text},
          {"recipes", recipes},
          {"total_seconds", report.total_seconds}};
}

std::vector<std::string> write_demo_report(const DemoReport& report, const std::string& directory) {
  std::vector<std::string> names;
  std::vector<double> shares, probes;
  for (const RecipeOutcome& o : report.recipes) {
    names.push_back(o.recipe);
    shares.push_back(o.diagnose.usage.mean_linear_share);
    probes.push_back(mode(o.diagnose, "hybrid").beyond_window_probe_accuracy);
  }
  const std::vector<std::pair<std::string, std::string>> files = {
      {"demo_report.md", demo_markdown(report)},
      {"demo_report.json", demo_json(report).dump(2) + "\n"},
      {"linear_share.svg", eval::svg_bar_chart("Linear share of the normaliser per recipe (hybrid, beyond w)", names,
                                               shares, "linear share")},
      {"probes_beyond_window.svg", eval::svg_bar_chart("Probe accuracy beyond the window per recipe (hybrid)", names,
                                                       probes, "accuracy")}};
  return write_files_atomically(directory, files);
}

}  // namespace lincat::demo
