// scripts/build_heldout_tasks.py writes tasks that lincat's readers accept, deterministically.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "eval/eval_test_support.h"
#include "lincat/eval/record_files.h"
#include "lincat/eval/task_readers.h"
#include "support/temp_dir.h"

namespace {

const std::string kScript = std::string(LINCAT_TEST_DATA) + "/../../scripts/build_heldout_tasks.py";

void write_document(const std::string& path, int number) {
  std::ofstream out(path);
  out << "CHAPTER " << number << ". Heading.\n\n";
  for (int i = 0; i < 12; ++i) {
    out << "The sailor number " << i << " of chapter " << number << " looked at the grey sea for a long while. "
        << "Then he climbed the mast and watched the horizon until evening came. ";
  }
  out << "\n";
}

void run_script(const std::string& out, const std::string& inputs) {
  const std::string command = "python3 " + kScript + " --items 5 --seed 9 --out " + out + " " + inputs + " >/dev/null";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
}

TEST(EvalHeldOutScript, WritesReadableTasksDeterministically) {
  lincat::test::TempDir dir;
  write_document(dir.file("a.txt"), 1);
  write_document(dir.file("b.txt"), 2);
  const std::string inputs = dir.file("a.txt") + " " + dir.file("b.txt");
  run_script(dir.file("one"), inputs);
  run_script(dir.file("two"), inputs);
  const auto next = lincat::eval::load_task("next_sentence", dir.file("one"), 0);
  const auto last = lincat::eval::load_task("last_word", dir.file("one"), 0);
  EXPECT_EQ(next.items.size(), 5u);
  EXPECT_EQ(last.items.size(), 5u);
  for (const auto& item : next.items) EXPECT_EQ(item.requests.size(), 4u);  // the sentence and 3 distractors
  for (const char* file : {"/next_sentence.jsonl", "/last_word.jsonl"}) {
    EXPECT_EQ(lincat::eval::read_text_file(dir.file("one") + file), lincat::eval::read_text_file(dir.file("two") + file));
  }
}

}  // namespace
