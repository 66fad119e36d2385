#include "lincat/eval/results_report.h"

#include <cstdio>

namespace lincat::eval {
namespace {

std::string result_key(const EvalRun& run, const ModeResults& mode, const TaskResult& task) {
  return run.modes.size() == 1 ? task.task : task.task + "@" + attention::mode_name(mode.mode);
}

std::string format_number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4f", value);
  return buffer;
}

}  // namespace

nlohmann::json results_json(const EvalRun& run) {
  nlohmann::json results = nlohmann::json::object();
  nlohmann::json average = nlohmann::json::object();
  for (const ModeResults& mode : run.modes) {
    for (const TaskResult& task : mode.tasks) {
      nlohmann::json metrics = nlohmann::json::object();
      for (const auto& [name, metric] : task.metrics) {
        metrics[name] = metric.value;
        metrics[name + "_stderr"] =
            metric.standard_error ? nlohmann::json(*metric.standard_error) : nlohmann::json("N/A");
      }
      metrics["samples"] = task.items;
      results[result_key(run, mode, task)] = metrics;
    }
    average[attention::mode_name(mode.mode)] = task_average(mode.tasks);
  }
  return {{"results", results},
          {"average", average},
          {"versions", run.versions},
          {"n-shot", run.num_fewshot},
          {"config", run.config}};
}

std::string results_markdown(const EvalRun& run) {
  std::string out = "| task | mode | metric | value | stderr |\n|---|---|---|---:|---:|\n";
  for (const ModeResults& mode : run.modes) {
    for (const TaskResult& task : mode.tasks) {
      for (const auto& [name, metric] : task.metrics) {
        out += "| " + task.task + " | " + attention::mode_name(mode.mode) + " | " + name + " | " +
               format_number(metric.value) + " | " +
               (metric.standard_error ? format_number(*metric.standard_error) : "N/A") + " |\n";
      }
    }
  }
  out += "\n| mode | task average |\n|---|---:|\n";
  for (const ModeResults& mode : run.modes) {
    out += "| " + attention::mode_name(mode.mode) + " | " + format_number(task_average(mode.tasks)) + " |\n";
  }
  return out;
}

}  // namespace lincat::eval
