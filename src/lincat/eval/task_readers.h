// Readers for the public formats of the benchmarks (as downloaded, renamed to <task>.jsonl) and of
// lincat's held-out real-text tasks. Every malformed record is a UserError naming file and line.
#pragma once
#include <string>
#include <vector>

#include "lincat/eval/task.h"

namespace lincat::eval {

// The tasks load_task reads, in the order they are documented.
enum class TaskId { Piqa, ArcEasy, ArcChallenge, HellaSwag, Winogrande, Mmlu, NextSentence, LastWord };

std::string task_name(TaskId task);
// UserError naming the valid tasks for an unknown name.
TaskId parse_task(const std::string& name);
const std::vector<std::string>& task_names();

// One line per task: the file it reads from the data directory and the fields it needs.
std::string task_file_help();

// Reads task `name` from `data_dir`. Few-shot prompts are built for mmlu only (examples from its
// dev split, as the harness); other tasks are zero-shot whatever num_fewshot says, and their
// Task::num_fewshot records 0.
Task load_task(TaskId task, const std::string& data_dir, int num_fewshot);
// The same by name (parse_task).
Task load_task(const std::string& name, const std::string& data_dir, int num_fewshot);

// Single-file readers (the files task_file_help names).
Task read_piqa(const std::string& path, const std::string& labels_path);  // labels_path "": inline "label"
Task read_arc(const std::string& name, const std::string& path);
Task read_hellaswag(const std::string& path);
Task read_winogrande(const std::string& path);
Task read_mmlu(const std::string& directory, int num_fewshot);  // dev/*_dev.csv, test/*_test.csv
Task read_next_sentence(const std::string& path);
Task read_last_word(const std::string& path);

// HellaSwag's text preprocessing (harness): strip, " [title]" -> ". ", drop "[...]", "  " -> " ".
std::string hellaswag_preprocess(const std::string& text);

}  // namespace lincat::eval
