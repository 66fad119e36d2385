#include "cli/cmd_eval_flags.h"

#include <iostream>

#include "lincat/eval/task_readers.h"
#include "lincat/eval/text_encoder.h"
#include "lincat/model/decoder.h"
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

std::vector<eval::TaskResult> run_tasks(const Model& model, attention::Mode mode, const io::Tokenizer& tokenizer,
                                        const std::vector<eval::Task>& tasks, int64_t limit, eval::AddBos add_bos) {
  const eval::Scorer scorer(model, mode, model.config.max_position_embeddings);
  const eval::Encoder encode = eval::bos_encoder(tokenizer, model, add_bos);
  std::vector<eval::TaskResult> results;
  for (const eval::Task& task : tasks) results.push_back(eval::evaluate_task(scorer, encode, task, limit));
  return results;
}

}  // namespace lincat::cli
