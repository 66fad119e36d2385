#include "lincat/eval/results_report.h"

#include <algorithm>
#include <cstdio>

namespace lincat::eval {
namespace {

std::string format_number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4f", value);
  return buffer;
}

// The harness writes metrics as "name,filter"; lincat applies no filter: "none".
nlohmann::json metric_entries(const TaskResult& task, const std::string& alias) {
  nlohmann::json entry = {{"alias", alias}};
  for (const auto& [name, metric] : task.metrics) {
    entry[name + ",none"] = metric.value;
    entry[name + "_stderr,none"] = metric.standard_error ? nlohmann::json(*metric.standard_error) : nlohmann::json("N/A");
  }
  return entry;
}

bool higher_is_better(const std::string& metric) {
  return metric != "perplexity" && metric != "token_perplexity" && metric != "bits_per_byte" &&
         metric != "byte_perplexity";
}

nlohmann::json higher_is_better_entries(const TaskResult& task) {
  nlohmann::json entry = nlohmann::json::object();
  for (const auto& [name, unused] : task.metrics) entry[name] = higher_is_better(name);
  return entry;
}

nlohmann::json task_config(const Task& task, attention::Mode mode) {
  nlohmann::json metrics = nlohmann::json::array();
  for (const std::string& m : task.metrics) {
    metrics.push_back({{"metric", m}, {"aggregation", "mean"}, {"higher_is_better", higher_is_better(m)}});
  }
  return {{"task", task.name},
          {"output_type", task.kind == TaskKind::LastWord ? "loglikelihood" : "multiple_choice"},
          {"doc_to_text", task.prompt},
          {"target_delimiter", " "},
          {"fewshot_delimiter", "\n\n"},
          {"num_fewshot", task.num_fewshot},
          {"metric_list", metrics},
          {"main_metric", task.main_metric},
          {"attention_mode", attention::mode_name(mode)},
          {"version", task.version}};
}

const Task* find_task(const EvalRun& run, const std::string& name) {
  for (const Task* t : run.tasks) {
    if (t->name == name) return t;
  }
  return nullptr;
}

}  // namespace

std::string result_key(const EvalRun& run, attention::Mode mode, const std::string& task) {
  return run.modes.size() == 1 ? task : task + "@" + attention::mode_name(mode);
}

nlohmann::json results_json(const EvalRun& run) {
  nlohmann::json results = nlohmann::json::object(), groups = nlohmann::json::object();
  nlohmann::json group_subtasks = nlohmann::json::object(), configs = nlohmann::json::object();
  nlohmann::json versions = nlohmann::json::object(), n_shot = nlohmann::json::object();
  nlohmann::json better = nlohmann::json::object(), n_samples = nlohmann::json::object();
  nlohmann::json average = nlohmann::json::object();
  for (const ModeResults& mode : run.modes) {
    for (const TaskResult& result : mode.tasks) {
      const std::string key = result_key(run, mode.mode, result.task);
      results[key] = metric_entries(result, key);
      better[key] = higher_is_better_entries(result);
      const Task* task = find_task(run, result.task);
      if (task == nullptr) continue;  // a text perplexity: no task behind it
      configs[key] = task_config(*task, mode.mode);
      versions[key] = task->version;
      n_shot[key] = task->num_fewshot;
      n_samples[key] = {{"original", static_cast<int64_t>(task->items.size())}, {"effective", result.items}};
      if (result.subtasks.empty()) continue;
      groups[key] = results[key];
      group_subtasks[key] = nlohmann::json::array();
      for (const TaskResult& sub : result.subtasks) {
        const std::string sub_key = result_key(run, mode.mode, sub.task);
        results[sub_key] = metric_entries(sub, " - " + sub.task.substr(task->name.size() + 1));  // the subject
        better[sub_key] = higher_is_better_entries(sub);
        const std::string subject = sub.task.substr(task->name.size() + 1);
        const auto original = std::count_if(task->items.begin(), task->items.end(),
                                            [&subject](const TaskItem& item) { return item.subtask == subject; });
        n_samples[sub_key] = {{"original", static_cast<int64_t>(original)}, {"effective", sub.items}};
        versions[sub_key] = task->version;
        n_shot[sub_key] = task->num_fewshot;
        group_subtasks[key].push_back(sub_key);
      }
    }
    average[attention::mode_name(mode.mode)] = task_average(mode.tasks);
  }
  nlohmann::json out = {{"results", results}};
  if (!groups.empty()) {
    out["groups"] = groups;
    out["group_subtasks"] = group_subtasks;
  }
  out["configs"] = configs;
  out["versions"] = versions;
  out["n-shot"] = n_shot;
  out["higher_is_better"] = better;
  out["n-samples"] = n_samples;
  out["config"] = run.config;
  out["average"] = average;
  return out;
}

std::string sample_log_jsonl(const Task& task, const TaskResult& result) {
  std::string out;
  for (size_t i = 0; i < result.item_scores.size(); ++i) {
    const TaskItem& item = task.items[i];
    const ItemScore& score = result.item_scores[i];
    nlohmann::json arguments = nlohmann::json::object(), resps = nlohmann::json::array(),
                   filtered = nlohmann::json::array();
    for (size_t r = 0; r < item.requests.size(); ++r) {
      arguments["gen_args_" + std::to_string(r)] = {{"arg_0", item.requests[r].context},
                                                    {"arg_1", item.requests[r].continuation}};
      const nlohmann::json response = {score.log_likelihoods[r], static_cast<bool>(score.greedy[r])};
      resps.push_back(nlohmann::json::array({response}));
      filtered.push_back(response);
    }
    nlohmann::json line = {{"doc_id", i},
                           {"target", task.kind == TaskKind::LastWord ? nlohmann::json(item.requests[0].continuation)
                                                                       : nlohmann::json(item.gold)},
                           {"arguments", arguments},
                           {"resps", resps},
                           {"filtered_resps", filtered},
                           {"acc", score.correct ? 1.0 : 0.0}};
    if (!item.subtask.empty()) line["subtask"] = item.subtask;
    if (std::find(task.metrics.begin(), task.metrics.end(), "acc_norm") != task.metrics.end()) {
      line["acc_norm"] = score.correct_normalised ? 1.0 : 0.0;
    }
    out += line.dump() + "\n";
  }
  return out;
}

std::string results_markdown(const EvalRun& run) {
  std::string out = "| task | mode | metric | value | stderr |\n|---|---|---|---:|---:|\n";
  for (const ModeResults& mode : run.modes) {
    for (const TaskResult& task : mode.tasks) {
      for (const auto& [name, metric] : task.metrics) {
        out += "| " + task.task + " | " + attention::mode_name(mode.mode) + " | " + name +
               (name == task.main_metric ? " (main)" : "") + " | " + format_number(metric.value) + " | " +
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
