// The output of `lincat eval`: a results JSON shaped like lm-evaluation-harness 0.4's (results per
// task with "metric,none" and "metric_stderr,none" keys and an alias, groups with their subtasks,
// configs, versions, n-shot, higher_is_better, n-samples, config), per-item sample logs
// (--log-samples) and a Markdown table. docs/EVALUATION.md describes every key.
#pragma once
#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "lincat/attention/modes.h"
#include "lincat/eval/evaluate.h"
#include "lincat/eval/task.h"

namespace lincat::eval {

struct ModeResults {
  attention::Mode mode = attention::Mode::Softmax;
  std::vector<TaskResult> tasks;  // benchmark tasks, then text perplexities
};

struct EvalRun {
  std::vector<ModeResults> modes;
  std::vector<const Task*> tasks;  // the benchmark tasks scored (their configs and sizes)
  nlohmann::json config;           // model, dtype, attention modes, BOS, limit, data directory, ...
};

// The key a task's result goes under: the task's name with one mode, "task@mode" with several.
std::string result_key(const EvalRun& run, attention::Mode mode, const std::string& task);

// "results" holds every task (and MMLU subject) per mode; "average" the main-metric average per
// mode (LoLCATs' metric per task). A missing standard error is "N/A".
nlohmann::json results_json(const EvalRun& run);

// One JSON line per item of `result` (scored from `task`), as the harness's --log_samples:
// doc_id, arguments (context and continuation per request), resps and filtered_resps
// ([log-likelihood, is-greedy] per request), target, and the item's acc / acc_norm.
std::string sample_log_jsonl(const Task& task, const TaskResult& result);

// | task | mode | metric | value | stderr | rows, then the average per mode.
std::string results_markdown(const EvalRun& run);

}  // namespace lincat::eval
