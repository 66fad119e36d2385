#include "cli/cmd_eval_flags.h"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>

#include "lincat/eval/task_readers.h"
#include "lincat/eval/text_encoder.h"
#include "lincat/model/decoder.h"
#include "lincat/train/progress.h"
#include "lincat/util/error.h"

namespace lincat::cli {

void TaskFlags::add_to(CLI::App& command, bool tasks_required) {
  std::string names;
  for (const std::string& n : eval::task_names()) names += (names.empty() ? "" : ", ") + n;
  CLI::Option* option = command.add_option("--tasks", tasks, "comma-separated tasks: " + names);
  if (tasks_required) option->required();
  command.add_option("--data-dir", data_dir, "directory holding the task files: " + eval::task_file_help())
      ->capture_default_str();
  add_limit_flag(command, limit);
  command.add_option("--num-fewshot", num_fewshot, "few-shot examples, for mmlu (from its dev split); other tasks stay zero-shot")
      ->capture_default_str();
  add_tokenizer_flag(command, tokenizer, "MODEL/tokenizer.json, else MODEL/tokenizer.model");
  command.add_option("--add-bos", add_bos, "BOS in front of each text: auto (as the tokenizer adds it), yes or no")
      ->capture_default_str();
}

std::vector<std::string> TaskFlags::task_names() const { return tasks.empty() ? std::vector<std::string>{} : split_list(tasks, "--tasks"); }

std::vector<eval::Task> TaskFlags::load_tasks() const {
  if (num_fewshot < 0) throw UserError("--num-fewshot " + std::to_string(num_fewshot) + ": must be >= 0");
  std::vector<eval::TaskId> ids;
  for (const std::string& name : task_names()) {
    try {
      ids.push_back(eval::parse_task(name));
    } catch (const UserError& e) {
      throw UserError(std::string("--tasks: ") + e.what());
    }
  }
  std::vector<eval::Task> loaded;
  for (eval::TaskId id : ids) {
    const std::string name = eval::task_name(id);
    loaded.push_back(eval::load_task(id, data_dir, num_fewshot));
    if (loaded.back().num_fewshot != num_fewshot) {
      std::cerr << "note: --num-fewshot applies to mmlu only; " << name << " is scored zero-shot\n";
    }
  }
  return loaded;
}

eval::ItemProgress item_progress(const std::string& label) { return item_progress_redrawn_if(label, train::stderr_is_terminal()); }

eval::ItemProgress item_progress_redrawn_if(const std::string& label, bool terminal) {
  const auto start = std::chrono::steady_clock::now();
  auto last = std::make_shared<std::chrono::steady_clock::time_point>(start);
  return [label, terminal, start, last](int64_t done, int64_t total) {
    const auto now = std::chrono::steady_clock::now();
    // A terminal redraws at most 5 times a second; a log gets a line every 10 s and the last one.
    if (done < total && now - *last < (terminal ? std::chrono::milliseconds(200) : std::chrono::milliseconds(10000))) return;
    *last = now;
    const double seconds = std::chrono::duration<double>(now - start).count();
    const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
    const double left = rate > 0 ? static_cast<double>(total - done) / rate : 0;
    char line[200];
    std::snprintf(line, sizeof line, "%s: %lld/%lld items, %.1f items/s, %lld:%02lld left", label.c_str(),
                  static_cast<long long>(done), static_cast<long long>(total), rate,
                  static_cast<long long>(left) / 60, static_cast<long long>(left) % 60);
    // One write: another thread's lines (the demo's) never land inside this one.
    const std::string text = (terminal ? "\r" : "") + std::string(line) + (terminal && done < total ? "" : "\n");
    std::cerr.write(text.data(), static_cast<std::streamsize>(text.size())).flush();
  };
}

std::vector<eval::TaskResult> run_tasks(const Model& model, attention::Mode mode, const io::Tokenizer& tokenizer,
                                        const std::vector<eval::Task>& tasks, int64_t limit, eval::AddBos add_bos) {
  const eval::Scorer scorer(model, mode, model.config.max_position_embeddings);
  const eval::Encoder encode = eval::bos_encoder(tokenizer, model, add_bos);
  std::vector<eval::TaskResult> results;
  for (const eval::Task& task : tasks) {
    results.push_back(eval::evaluate_task(scorer, encode, task, limit,
                                          item_progress(task.name + "@" + attention::mode_name(mode))));
  }
  return results;
}

}  // namespace lincat::cli
