// The output of `lincat eval`: a results JSON shaped like lm-evaluation-harness's (results, then
// task, then metric and metric_stderr; versions; n-shot; config) and a Markdown table.
#pragma once
#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "lincat/attention/modes.h"
#include "lincat/eval/evaluate.h"

namespace lincat::eval {

struct ModeResults {
  attention::Mode mode = attention::Mode::Softmax;
  std::vector<TaskResult> tasks;  // benchmark tasks, then text perplexities
};

struct EvalRun {
  std::vector<ModeResults> modes;
  std::map<std::string, int> versions;  // task -> version
  std::map<std::string, int> num_fewshot;
  nlohmann::json config;  // model, attention modes, limit, data directory, ...
};

// With one mode the results are keyed by task name as in the harness; with several, by
// "task@mode". "average" holds the task average per mode. A missing standard error is "N/A".
nlohmann::json results_json(const EvalRun& run);

// | task | mode | metric | value | stderr | rows, then the average per mode.
std::string results_markdown(const EvalRun& run);

}  // namespace lincat::eval
