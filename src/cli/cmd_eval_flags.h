// Flags shared by `lincat eval` and `lincat diagnose`, and the evaluation they drive.
#pragma once
#include "cli/flags.h"
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "lincat/attention/modes.h"
#include "lincat/eval/evaluate.h"
#include "lincat/eval/text_encoder.h"
#include "lincat/eval/task.h"
#include "lincat/io/tokenizer.h"
#include "lincat/model/model.h"

namespace lincat::cli {

struct TaskFlags {
  std::string tasks;  // comma-separated
  std::string data_dir = ".";
  int64_t limit = 0;
  int num_fewshot = 0;
  std::string tokenizer;  // empty: MODEL/tokenizer.json, else MODEL/tokenizer.model
  std::string add_bos = "auto";

  void add_to(CLI::App& command, bool tasks_required);
  std::vector<std::string> task_names() const;  // UserError for an empty name
  std::vector<eval::Task> load_tasks() const;
};


// Progress of one task in one mode on stderr ("piqa@hybrid: 120/1838 items, 35.2 items/s, 0:49
// left"): redrawn on a terminal, a line every 10 s otherwise.
eval::ItemProgress item_progress(const std::string& label);
// The same with `redraw` in place of "stderr is a terminal" (no redraw where lines interleave).
eval::ItemProgress item_progress_redrawn_if(const std::string& label, bool redraw);

// Every task through one scorer (max length: the model's max_position_embeddings).
std::vector<eval::TaskResult> run_tasks(const Model& model, attention::Mode mode, const io::Tokenizer& tokenizer,
                                        const std::vector<eval::Task>& tasks, int64_t limit,
                                        eval::AddBos add_bos = eval::AddBos::Auto);

}  // namespace lincat::cli
