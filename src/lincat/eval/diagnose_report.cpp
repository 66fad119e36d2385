#include "lincat/eval/diagnose_report.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "lincat/eval/svg_plots.h"
#include "lincat/util/atomic_file.h"
#include "lincat/util/error.h"

namespace lincat::eval {
namespace {

std::string fixed(double value, int digits = 4) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, value);
  return buffer;
}

nlohmann::json metrics_json(const TaskResult& task) {
  nlohmann::json metrics = {{"samples", task.items}};
  for (const auto& [name, metric] : task.metrics) {
    metrics[name] = metric.value;
    metrics[name + "_stderr"] = metric.standard_error ? nlohmann::json(*metric.standard_error) : nlohmann::json("N/A");
  }
  return metrics;
}

nlohmann::json interval_json(const Interval& i) { return {{"mean", i.mean}, {"low", i.low}, {"high", i.high}}; }

nlohmann::json intervals_json(const std::vector<Interval>& row) {
  nlohmann::json out = nlohmann::json::array();
  for (const Interval& i : row) out.push_back(interval_json(i));
  return out;
}

nlohmann::json usage_intervals_json(const ComponentUsage& u) {
  if (u.layer_linear_share.empty()) return nullptr;
  nlohmann::json heads = nlohmann::json::array(), output_heads = nlohmann::json::array();
  for (const auto& row : u.linear_share_interval) heads.push_back(intervals_json(row));
  for (const auto& row : u.linear_output_share_interval) output_heads.push_back(intervals_json(row));
  return {{"confidence", 0.95},
          {"resampled", "sequences"},
          {"linear_share_per_head", heads},
          {"linear_output_share_per_head", output_heads},
          {"linear_share_per_layer", intervals_json(u.layer_linear_share)},
          {"linear_output_share_per_layer", intervals_json(u.layer_linear_output_share)},
          {"linear_share", interval_json(u.model_linear_share)},
          {"linear_output_share", interval_json(u.model_linear_output_share)}};
}

std::string interval_text(const Interval& i) {
  return fixed(100 * i.mean, 1) + "% [" + fixed(100 * i.low, 1) + ", " + fixed(100 * i.high, 1) + "]";
}

}  // namespace

nlohmann::json paired_json(const std::vector<PairedDifference>& paired) {
  nlohmann::json out = nlohmann::json::array();
  for (const PairedDifference& d : paired) {
    const bool accuracy = d.metric == PairedMetric::Accuracy;  // McNemar's counts exist for accuracies only
    out.push_back({{"items", d.what}, {"metric", paired_metric_name(d.metric)}, {"a", d.a}, {"b", d.b},
                   {"n", d.items}, {"difference", d.difference}, {"low", d.low}, {"high", d.high},
                   {"only_a", accuracy ? nlohmann::json(d.only_a) : nlohmann::json(nullptr)},
                   {"only_b", accuracy ? nlohmann::json(d.only_b) : nlohmann::json(nullptr)},
                   {"mcnemar_p", accuracy ? nlohmann::json(d.p_value) : nlohmann::json(nullptr)},
                   {"distinguishable", d.distinguishable}});
  }
  return out;
}

nlohmann::json diagnose_json(const DiagnoseReport& report) {
  nlohmann::json modes = nlohmann::json::object();
  for (const ModeScores& m : report.modes) {
    nlohmann::json tasks = nlohmann::json::object();
    for (const TaskResult& t : m.tasks) tasks[t.task] = metrics_json(t);
    nlohmann::json probes = nlohmann::json::object();
    for (const auto& [name, points] : m.probes) {
      nlohmann::json rows = nlohmann::json::array();
      for (const ProbePoint& p : points) rows.push_back({{"distance", p.distance}, {"accuracy", p.accuracy}, {"items", p.items}});
      probes[name] = rows;
    }
    modes[m.name] = {{"tasks", tasks},
                     {"task_average", m.task_average},
                     {"recovered", m.recovered ? nlohmann::json(*m.recovered) : nlohmann::json(nullptr)},
                     {"probes", probes},
                     {"probe_accuracy_beyond_window", m.beyond_window_probe_accuracy},
                     {"bits_per_byte", m.perplexity ? nlohmann::json(m.perplexity->bits_per_byte) : nlohmann::json(nullptr)}};
  }
  nlohmann::json perplexity = nullptr;
  const std::optional<PerplexityResult>& scored = report.modes.empty() ? std::nullopt : report.modes.front().perplexity;
  if (scored) {
    perplexity = {{"text", report.perplexity_source}, {"window", report.perplexity_window},
                  {"stride", report.perplexity_stride}, {"windows", scored->windows.size()},
                  {"tokens", scored->tokens}, {"bytes", scored->bytes},
                  {"paired_unit", "window (the tokens each strided window predicts, weighted by their bytes)"}};
  }
  return {{"model", report.model},
          {"base", report.base},
          {"window", report.window},
          {"default_mode", attention::mode_name(report.default_mode)},
          {"add_bos", add_bos_name(report.add_bos)},
          {"bos_added", report.bos_added},
          {"perplexity", perplexity},
          {"modes", modes},
          {"usage_mode", attention::mode_name(report.usage.mode)},
          {"usage_source", report.usage_source},
          {"usage_sequences", report.usage.sequences},
          {"usage_intervals", usage_intervals_json(report.usage)},
          {"layer_verdicts", layer_usage_verdicts(report.usage)},
          {"window_reach", report.window_reach},
          {"paired", paired_json(report.paired)},
          {"linear_share", report.usage.linear_share},
          {"linear_output_share", report.usage.linear_output_share},
          {"mean_linear_share", report.usage.mean_linear_share},
          {"mean_linear_output_share", report.usage.mean_linear_output_share},
          {"usage_positions", report.usage.positions},
          {"task_items", report.task_items},
          {"task_items_within_window", report.task_items_within_window},
          {"probe_items_per_distance", report.probe_settings.items_per_distance},
          {"probe_choices", report.probe_settings.choices},
          {"probe_seed", report.probe_settings.seed},
          {"verdict", verdict_kind_name(report.verdict.kind)},
          {"verdict_line", report.verdict.line}};
}

std::string diagnose_markdown(const DiagnoseReport& report) {
  std::string out = "# Component diagnostics\n\nModel `" + report.model + "`, base `" + report.base +
                    "` (softmax), window w = " + std::to_string(report.window) + "; --add-bos " +
                    add_bos_name(report.add_bos) + " (" + (report.bos_added ? "a BOS" : "no BOS") +
                    " in front of every task and perplexity text).\n\n**Verdict:** " +
                    report.verdict.line + "\n\n" + std::to_string(report.task_items_within_window) + " of " +
                    std::to_string(report.task_items) +
                    " task items fit inside the window (context and continuation <= w tokens): on those the linear "
                    "branch never takes part, so only longer items and the probes beyond w can show whether it is "
                    "used.\n\n## Tasks per mode\n\n| mode |";
  const std::vector<TaskResult>& first = report.modes.front().tasks;
  for (const TaskResult& t : first) out += " " + t.task + " (" + t.main_metric + ") |";
  const bool has_text = report.modes.front().perplexity.has_value();
  out += std::string(" average | recovered | probes beyond w |") + (has_text ? " bits per byte |" : "") + "\n|---|";
  for (size_t i = 0; i < first.size() + 3 + (has_text ? 1 : 0); ++i) out += "---:|";
  out += "\n";
  const std::string default_name = attention::mode_name(report.default_mode);
  for (const ModeScores& m : report.modes) {
    out += "| " + m.name + (m.name == default_name ? " (default)" : "") + " |";
    for (const TaskResult& t : m.tasks) out += " " + fixed(t.metrics.at(t.main_metric).value) + " |";
    out += " " + fixed(m.task_average) + " | " + (m.recovered ? fixed(*m.recovered, 1) : std::string("—")) + " | " +
           fixed(m.beyond_window_probe_accuracy) + " |" +
           (has_text ? " " + (m.perplexity ? fixed(m.perplexity->bits_per_byte) : std::string("—")) + " |" : "") + "\n";
  }
  if (has_text) {
    out += "\nBits per byte (lower is better) on " + report.perplexity_source + ": windows of " +
           std::to_string(report.perplexity_window) + " tokens every " + std::to_string(report.perplexity_stride) +
           " tokens, each token predicted once.\n";
  }
  out += "\n## Paired differences (same items)\n\nAccuracy of a minus b in points, paired bootstrap 95% interval, "
         "McNemar's exact test on the items where they disagree; distinguishable: p < 0.05. Probe rows pool the "
         "distances beyond w and beyond the window stack's reach L(w-1) = " + std::to_string(report.window_reach) +
         " tokens.";
  if (has_text) {
    out += " The bits-per-byte row compares the same windows of the held-out text (n = windows): a's bits per byte "
           "minus b's (negative: a predicts the text better), the interval from resampling windows (each resample's "
           "summed nats over its summed bytes); distinguishable: the interval excludes 0.";
  }
  out += "\n\n| items | a - b | n | difference [95%] | only a / only b | McNemar p | |\n|---|---|---:|---|---:|---:|---|\n";
  for (const PairedDifference& d : report.paired) {
    const bool accuracy = d.metric == PairedMetric::Accuracy;
    char counts[64] = "—", p_value[32] = "—";
    if (accuracy) {
      std::snprintf(counts, sizeof counts, "%lld / %lld", static_cast<long long>(d.only_a), static_cast<long long>(d.only_b));
      std::snprintf(p_value, sizeof p_value, "%.3g", d.p_value);
    }
    out += "| " + d.what + " | " + d.a + " - " + d.b + " | " + std::to_string(d.items) + " | " + difference_text(d) +
           " | " + counts + " | " + p_value + " | " + (d.distinguishable ? "distinguishable" : "not distinguishable") +
           " |\n";
  }
  std::string unreachable;
  const bool probed = !report.modes.empty() && !report.modes.front().probes.empty();
  for (const ProbePoint& p : probed ? report.modes.front().probes.begin()->second : std::vector<ProbePoint>{}) {
    if (p.distance > report.window_reach) unreachable += (unreachable.empty() ? "" : ", ") + std::to_string(p.distance);
  }
  out += "\nWindow w = " + std::to_string(report.window) + ", reach of the window stack L(w-1) = " +
         std::to_string(report.window_reach) + " tokens: " +
         (unreachable.empty() ? std::string("every probe distance is within it, so window attention alone could in principle carry the fact")
                              : "no window-only path reaches the facts at d = " + unreachable +
                                    " tokens; only the linear branch (or sinks) can answer there") + ".\n";
  for (const auto& [probe, unused] : report.modes.front().probes) {
    out += "\n## Probe: " + probe + " (accuracy; chance " + fixed(1.0 / report.probe_settings.choices, 2) +
           "; distance also in windows w and in reaches L(w-1); * beyond the reach)\n\n| mode |";
    for (const ProbePoint& p : report.modes.front().probes.at(probe)) {
      out += " d=" + std::to_string(p.distance) + " (" + fixed(static_cast<double>(p.distance) / report.window, 1) +
             "w, " + fixed(static_cast<double>(p.distance) / std::max<int64_t>(1, report.window_reach), 2) + "R)" +
             (p.distance > report.window_reach ? "*" : "") + " |";
    }
    out += "\n|---|";
    for (size_t i = 0; i < report.modes.front().probes.at(probe).size(); ++i) out += "---:|";
    out += "\n";
    for (const ModeScores& m : report.modes) {
      out += "| " + m.name + " |";
      for (const ProbePoint& p : m.probes.at(probe)) out += " " + fixed(p.accuracy, 3) + " |";
      out += "\n";
    }
  }
  const ComponentUsage& u = report.usage;
  out += "\n## Linear usage per layer (" + attention::mode_name(u.mode) + " mode, positions beyond the window)\n\n"
         "Measured on " + report.usage_source + ". ";
  if (!u.layer_linear_share.empty()) {
    out += "Means over heads with bootstrap 95% intervals over the " + std::to_string(u.sequences) +
           " sequences; a layer whose upper bound of the linear share is below " + fixed(100 * kBypassedShare, 0) +
           "% is bypassed.\n\n| layer | linear share of the normaliser | linear share of the output norm | verdict |\n"
           "|---|---:|---:|---|\n";
    const std::vector<std::string> verdicts = layer_usage_verdicts(u);
    for (size_t l = 0; l < u.layer_linear_share.size(); ++l) {
      out += "| " + std::to_string(l) + " | " + interval_text(u.layer_linear_share[l]) + " | " +
             interval_text(u.layer_linear_output_share[l]) + " | " + verdicts[l] + " |\n";
    }
    out += "| all | " + interval_text(u.model_linear_share) + " | " + interval_text(u.model_linear_output_share) + " | |\n";
  } else {
    out += "Too few sequences for an interval.\n";
  }
  out += "\n## Linear share per layer and head\n\n"
         "Fraction of the attention normaliser carried by the linear branch";
  out += u.linear_share_interval.empty() ? "" : " with its 95% interval";
  out += "; after the slash, the linear part's share of the output norm.\n\n| layer |";
  const size_t heads = report.usage.linear_share.empty() ? 0 : report.usage.linear_share[0].size();
  for (size_t h = 0; h < heads; ++h) out += " head " + std::to_string(h) + " |";
  out += "\n|---|";
  for (size_t h = 0; h < heads; ++h) out += "---:|";
  out += "\n";
  for (size_t l = 0; l < report.usage.linear_share.size(); ++l) {
    out += "| " + std::to_string(l) + " |";
    for (size_t h = 0; h < heads; ++h) {
      out += " " + (u.linear_share_interval.empty() ? fixed(100 * u.linear_share[l][h], 1) + "%" : interval_text(u.linear_share_interval[l][h])) +
             " / " + (u.linear_output_share_interval.empty() ? fixed(100 * u.linear_output_share[l][h], 1) + "%"
                                                             : interval_text(u.linear_output_share_interval[l][h])) + " |";
    }
    out += "\n";
  }
  out += "\nPlots: linear_share.svg, mode_accuracy.svg, probe_passkey.svg, probe_associative_recall.svg.\n";
  return out;
}

std::vector<std::string> write_diagnose_report(const DiagnoseReport& report, const std::string& directory) {
  std::vector<std::pair<std::string, std::string>> files = {
      {"report.md", diagnose_markdown(report)},
      {"report.json", diagnose_json(report).dump(2) + "\n"},
      {"linear_share.svg", svg_heatmap("Linear share of the normaliser (" + attention::mode_name(report.usage.mode) + ", beyond w)", report.usage.linear_share,
                                       "layer", "head")}};
  std::vector<std::string> labels;
  std::vector<double> averages;
  for (const ModeScores& m : report.modes) {
    labels.push_back(m.name);
    averages.push_back(m.task_average);
  }
  files.emplace_back("mode_accuracy.svg", svg_bar_chart("Task average per mode", labels, averages, "accuracy"));
  for (const auto& [probe, unused] : report.modes.front().probes) {
    std::vector<PlotSeries> series;
    for (const ModeScores& m : report.modes) {
      PlotSeries s{m.name, {}, {}};
      for (const ProbePoint& p : m.probes.at(probe)) {
        s.x.push_back(static_cast<double>(p.distance));
        s.y.push_back(p.accuracy);
      }
      series.push_back(std::move(s));
    }
    files.emplace_back("probe_" + probe + ".svg",
                       svg_line_chart(probe + " accuracy against distance (w = " + std::to_string(report.window) + ")",
                                      series, "distance in tokens", "accuracy"));
  }
  return write_files_atomically(directory, files);
}

}  // namespace lincat::eval
