// Readers on hand-written files in each public format: the exact prompts lm-evaluation-harness
// builds, and a clear error naming file and line for each malformed record.
#include <gtest/gtest.h>

#include "eval/eval_test_support.h"
#include "lincat/eval/record_files.h"
#include "lincat/eval/task_readers.h"
#include "support/temp_dir.h"
#include "support/user_error.h"

namespace {

using lincat::test::contains;
using lincat::test::kEvalData;
using lincat::test::user_error_message;

TEST(EvalReaders, PiqaPromptAndChoices) {
  const auto task = lincat::eval::load_task("piqa", kEvalData, 0);
  ASSERT_EQ(task.items.size(), 3u);
  const auto& item = task.items[1];
  EXPECT_EQ(item.requests[0].context, "Question: To dry wet shoes,\nAnswer:");
  EXPECT_EQ(item.requests[1].continuation, " stuff them with newspaper.");
  EXPECT_EQ(item.choice_bytes[1], std::string("stuff them with newspaper.").size());
  EXPECT_EQ(item.gold, 1u);
  EXPECT_EQ(task.metrics, (std::vector<std::string>{"acc", "acc_norm"}));
}

TEST(EvalReaders, PiqaLabelsFromTheSeparateLabelsFile) {
  const auto task = lincat::eval::load_task("piqa", kEvalData + "/piqa-labels-file", 0);
  ASSERT_EQ(task.items.size(), 2u);
  EXPECT_EQ(task.items[0].gold, 0u);
  EXPECT_EQ(task.items[1].gold, 1u);
}

TEST(EvalReaders, ArcInBothTheOriginalAndTheHuggingFaceForm) {
  const auto easy = lincat::eval::load_task("arc_easy", kEvalData, 0);
  ASSERT_EQ(easy.items.size(), 2u);
  EXPECT_EQ(easy.items[0].requests[0].context, "Question: Which of these is a source of light?\nAnswer:");
  EXPECT_EQ(easy.items[0].requests.size(), 4u);
  EXPECT_EQ(easy.items[0].gold, 1u);
  EXPECT_EQ(easy.items[1].requests.size(), 3u);  // numeric labels "1".."3"
  EXPECT_EQ(easy.items[1].gold, 0u);
  const auto challenge = lincat::eval::load_task("arc_challenge", kEvalData, 0);
  ASSERT_EQ(challenge.items.size(), 2u);
  EXPECT_EQ(challenge.items[1].requests[1].continuation, " a bacterial population in the bloodstream");
  EXPECT_EQ(challenge.items[1].gold, 1u);
}

TEST(EvalReaders, HellaswagPreprocessing) {
  const auto task = lincat::eval::load_task("hellaswag", kEvalData, 0);
  ASSERT_EQ(task.items.size(), 2u);
  EXPECT_EQ(task.items[0].requests[3].context, "Roof shingle removal: A man is sitting on a roof. He");
  EXPECT_EQ(task.items[0].requests[3].continuation, " starts pulling up roofing on a roof.");
  EXPECT_EQ(task.items[0].gold, 3u);
  EXPECT_EQ(task.items[1].requests[0].context, "Baking cookies: How to bake cookies. Preheat the oven. Then");
  EXPECT_EQ(task.items[1].requests[0].continuation, " mix the butter and sugar Beat well.");
  EXPECT_EQ(task.items[1].gold, 0u);  // label given as a string
  // As Python's str.replace: one pass, so three spaces become two.
  EXPECT_EQ(lincat::eval::hellaswag_preprocess("  a [title] b   [x]c "), "a. b  c");
}

TEST(EvalReaders, WinograndeScoresTheTextAfterTheBlank) {
  const auto task = lincat::eval::load_task("winogrande", kEvalData, 0);
  ASSERT_EQ(task.items.size(), 2u);
  const auto& item = task.items[0];
  EXPECT_EQ(item.requests[0].context,
            "Ian volunteered to eat Dennis's menudo after already having a bowl because Ian");
  EXPECT_EQ(item.requests[1].context,
            "Ian volunteered to eat Dennis's menudo after already having a bowl because Dennis");
  EXPECT_EQ(item.requests[0].continuation, " despised eating intestine.");
  EXPECT_EQ(item.requests[1].continuation, " despised eating intestine.");
  EXPECT_EQ(item.gold, 1u);
  EXPECT_EQ(task.metrics, (std::vector<std::string>{"acc"}));
}

TEST(EvalReaders, MmluFewShotFromDevAndQuotedCsv) {
  const auto task = lincat::eval::load_task("mmlu", kEvalData, 1);
  ASSERT_EQ(task.items.size(), 3u);
  EXPECT_EQ(task.items[0].requests[0].context,
            "The following are multiple choice questions (with answers) about astronomy.\n\n"
            "You are pushing a truck along a road. Which is true?\nA. The truck pushes back harder\n"
            "B. It pushes back equally\nC. It does not push back\nD. It depends on speed\nAnswer: B\n\n"
            "What is the closest star to Earth?\nA. Proxima Centauri\nB. The Sun\nC. Sirius\nD. Vega\nAnswer:");
  EXPECT_EQ(task.items[0].requests[2].continuation, " C");
  EXPECT_EQ(task.items[0].gold, 1u);
  const std::string second = task.items[1].requests[0].context;
  EXPECT_TRUE(contains(second, "Which planet has the \"Great Red Spot\"?\nA. Mars"));
  EXPECT_TRUE(contains(second, "D. Saturn,\n the ringed one\nAnswer:"));
  EXPECT_EQ(task.items[1].gold, 2u);
  EXPECT_TRUE(contains(task.items[2].requests[0].context, "about high school biology.\n\n"));
  EXPECT_EQ(task.items[2].gold, 3u);
  const auto zero_shot = lincat::eval::load_task("mmlu", kEvalData, 0);
  EXPECT_EQ(zero_shot.items[0].requests[0].context.rfind("The following are", 0), 0u);
  EXPECT_FALSE(contains(zero_shot.items[0].requests[0].context, "truck"));
}

TEST(EvalReaders, HeldOutRealTextFormats) {
  const auto next = lincat::eval::load_task("next_sentence", kEvalData, 0);
  ASSERT_EQ(next.items.size(), 1u);
  EXPECT_EQ(next.items[0].requests.size(), 3u);
  const auto last = lincat::eval::load_task("last_word", kEvalData, 0);
  ASSERT_EQ(last.items.size(), 1u);
  EXPECT_EQ(last.items[0].requests[0].continuation, " wharves");
  EXPECT_EQ(last.kind, lincat::eval::TaskKind::LastWord);
}

TEST(EvalReaders, MalformedLinesNameFileAndLine) {
  const std::string bad = kEvalData + "/malformed";
  auto message = [&](const std::string& task) {
    return user_error_message([&] { lincat::eval::load_task(task, bad, 0); });
  };
  EXPECT_TRUE(contains(message("piqa"), bad + "/piqa.jsonl:2: missing field 'sol2'"));
  EXPECT_TRUE(contains(message("arc_easy"), bad + "/arc_easy.jsonl:3: answerKey 'E' is not one of the choice labels"));
  EXPECT_TRUE(contains(message("hellaswag"), bad + "/hellaswag.jsonl:2: not valid JSON"));
  EXPECT_TRUE(contains(message("winogrande"), bad + "/winogrande.jsonl:1: field 'sentence' has no '_' blank"));
  EXPECT_TRUE(contains(message("mmlu"), bad + "/mmlu/test/astronomy_test.csv:2: answer should be A, B, C or D"));
  EXPECT_TRUE(contains(message("next_sentence"), bad + "/next_sentence.jsonl:1: answer index 5 is outside 0..1"));
  EXPECT_TRUE(contains(message("last_word"), bad + "/last_word.jsonl:1: expected a JSON object, found array"));
}

TEST(EvalReaders, MissingFilesUnknownTasksAndFewShotAreExplained) {
  EXPECT_TRUE(contains(user_error_message([] { lincat::eval::load_task("piqa", "/nonexistent", 0); }),
                       "/nonexistent/piqa.jsonl: cannot open file"));
  EXPECT_TRUE(contains(user_error_message([] { lincat::eval::load_task("lambada", kEvalData, 0); }),
                       "unknown task 'lambada'"));
  EXPECT_EQ(lincat::eval::load_task("piqa", kEvalData, 2).num_fewshot, 0);  // zero-shot, and says so
  EXPECT_TRUE(contains(user_error_message([] { lincat::eval::load_task("mmlu", kEvalData, -1); }), "must be >= 0"));
  EXPECT_TRUE(contains(user_error_message([] { lincat::eval::load_task("mmlu", kEvalData, 5); }),
                       "fewer than the 5 few-shot examples asked for"));
}

// Found by fuzz/tasks_fuzz.cpp: a number beyond the range of a double made the JSON parser throw
// out_of_range, which escaped as an internal error instead of naming the file and line.
TEST(EvalReaders, NumberBeyondDoubleRangeIsInvalidJsonNamingFileAndLine) {
  lincat::test::TempDir dir;
  std::FILE* f = std::fopen(dir.file("piqa.jsonl").c_str(), "w");
  std::fputs("{\"goal\": \"a\", \"sol1\": \"b\", \"sol2\": \"c\", \"label\": 0}\n{\"goal\": 1e400}\n", f);
  std::fclose(f);
  EXPECT_TRUE(contains(user_error_message([&] { lincat::eval::load_task("piqa", dir.path(), 0); }),
                       dir.file("piqa.jsonl") + ":2: not valid JSON"));
}

// From review, reproduced with fuzz/tasks_fuzz.cpp: std::regex_replace recursed once per
// character of a "[...]" span and overflowed the stack on a long one (60 000 characters under
// AddressSanitizer). The linear replacement keeps the regex's behaviour, line breaks included.
TEST(EvalReaders, HellaswagLongBracketedSpanIsRemovedWithoutRecursing) {
  EXPECT_EQ(lincat::eval::hellaswag_preprocess("a [" + std::string(1000000, 'x') + "] b"), "a b");
  EXPECT_EQ(lincat::eval::hellaswag_preprocess("a[[b]d [c\nd] e[f\r[g]h"), "ad [c\nd] e[f\rh");
  EXPECT_EQ(lincat::eval::hellaswag_preprocess("x [" + std::string(100000, '[') + "\ny"), "x [" + std::string(100000, '[') + "\ny");
}

TEST(EvalReaders, CsvUnterminatedQuoteNamesTheLineItOpened) {
  lincat::test::TempDir dir;
  std::FILE* f = std::fopen(dir.file("x.csv").c_str(), "w");
  std::fputs("a,b\nc,\"never\nclosed\n", f);
  std::fclose(f);
  EXPECT_TRUE(contains(user_error_message([&] { lincat::eval::read_csv(dir.file("x.csv")); }),
                       dir.file("x.csv") + ":2: unterminated quoted field"));
}

}  // namespace

namespace {

TEST(EvalReaders, HeldOutSampleFromTheScriptReads) {
  const std::string dir = lincat::test::kEvalData + "/heldout";
  const auto next = lincat::eval::load_task("next_sentence", dir, 0);
  EXPECT_EQ(next.items.size(), 12u);
  for (const auto& item : next.items) EXPECT_EQ(item.requests.size(), 4u);
  const auto last = lincat::eval::load_task("last_word", dir, 0);
  EXPECT_EQ(last.items.size(), 12u);
}

}  // namespace
