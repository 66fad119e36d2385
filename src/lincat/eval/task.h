// Evaluation tasks as lists of text requests, in the prompt formats of lm-evaluation-harness.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace lincat::eval {

struct TextRequest {
  std::string context;
  std::string continuation;  // scored given the context; begins with the target delimiter (" ")
};

// One multiple-choice item: a request per choice (they share a context except in WinoGrande's
// partial scoring), the byte length each choice is normalised by for acc_norm, and the answer.
// A last-word item has a single request whose continuation is the word.
struct TaskItem {
  std::vector<TextRequest> requests;
  std::vector<std::size_t> choice_bytes;
  std::size_t gold = 0;
  std::string subtask;  // MMLU: the subject, scored as its own task and averaged unweighted; else empty
};

enum class TaskKind {
  MultipleChoice,  // acc, acc_norm
  LastWord,        // acc (the word is the greedy continuation), perplexity
};

struct Task {
  std::string name;
  TaskKind kind = TaskKind::MultipleChoice;
  std::vector<std::string> metrics;  // reported, in order
  std::string main_metric;           // the one averaged over tasks
  int version = 1;
  int num_fewshot = 0;
  std::string prompt;  // how an item's context is built, in the harness's doc_to_text notation
  std::vector<TaskItem> items;
};

}  // namespace lincat::eval
