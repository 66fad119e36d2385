// Evaluation task files on arbitrary bytes. The first byte picks the task (task_names(), modulo
// their number), the second --num-fewshot (0..5); the rest is the task's file. For piqa the part
// after the first NUL byte, if any, is piqa-labels.lst; for mmlu the part before it is one
// subject's test CSV and the part after it that subject's dev CSV. Either a UserError, or a task
// whose every item has one byte count per request and a gold answer among its choices.
#include <cstdlib>
#include <filesystem>
#include <string>

#include "fuzz/fuzz_support.h"
#include "lincat/eval/task_readers.h"
#include "lincat/util/error.h"

namespace {

namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  const std::string relative = fs::relative(path, lincat::fuzz::scratch_dir()).string();
  lincat::fuzz::write_input(relative, reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::vector<std::string>& names = lincat::eval::task_names();
  const std::string name = names[data[0] % names.size()];
  const int num_fewshot = data[1] % 6;
  const std::string text(reinterpret_cast<const char*>(data + 2), size - 2);
  const std::size_t nul = text.find('\0');
  const std::string first = text.substr(0, nul);
  const std::string second = nul == std::string::npos ? "" : text.substr(nul + 1);

  const fs::path dir = fs::path(lincat::fuzz::scratch_dir()) / "tasks";
  fs::remove_all(dir);
  if (name == "mmlu") {
    write(dir / "mmlu" / "test" / "subject_test.csv", first);
    write(dir / "mmlu" / "dev" / "subject_dev.csv", second);
  } else if (name == "piqa") {
    write(dir / "piqa.jsonl", first);
    if (nul != std::string::npos) write(dir / "piqa-labels.lst", second);
  } else {
    write(dir / (name + ".jsonl"), text);
  }

  lincat::eval::Task task;
  try {
    task = lincat::eval::load_task(name, dir.string(), num_fewshot);
  } catch (const lincat::UserError&) {
    return 0;
  }
  if (task.name != name || task.metrics.empty()) std::abort();
  for (const lincat::eval::TaskItem& item : task.items) {
    if (item.requests.empty() || item.choice_bytes.size() != item.requests.size()) std::abort();
    if (item.gold >= item.requests.size()) std::abort();
    for (const lincat::eval::TextRequest& request : item.requests) {
      if (request.continuation.empty() || request.continuation[0] != ' ') std::abort();
    }
  }
  return 0;
}
