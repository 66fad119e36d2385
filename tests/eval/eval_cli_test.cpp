// `lincat eval` and `lincat diagnose` as a user runs them.
#include <gtest/gtest.h>

#include <cstdlib>

#include <nlohmann/json.hpp>

#include "eval/eval_test_support.h"
#include "lincat/eval/record_files.h"
#include "support/run_program.h"
#include "support/temp_dir.h"

namespace {

using lincat::test::kEvalData;
using lincat::test::kLlamaFixture;
using lincat::test::kTinyTokenizer;

// The program with one intra-op thread: these runs are many small operations, which two OpenMP
// threads on a shared 2-core machine make several times slower.
lincat::test::ProgramResult run_lincat(const std::string& arguments) {
  setenv("LINCAT_THREADS", "1", 1);
  return lincat::test::run_lincat(arguments);
}

TEST(EvalCli, HarnessShapedResultsAndMarkdown) {
  lincat::test::TempDir dir;
  const auto result = run_lincat("eval " + kLlamaFixture + " --tokenizer " + kTinyTokenizer + " --data-dir " +
                                 kEvalData + " --tasks piqa,arc_easy,hellaswag,winogrande,mmlu,next_sentence,last_word"
                                 " --num-fewshot 0 --text " + kEvalData + "/text.txt --ppl-window 16 --stride 8 --output " +
                                 dir.file("results.json"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto json = nlohmann::json::parse(lincat::eval::read_text_file(dir.file("results.json")));
  const auto& piqa = json.at("results").at("piqa");
  for (const char* key : {"acc", "acc_stderr", "acc_norm", "acc_norm_stderr"}) EXPECT_TRUE(piqa.contains(key)) << key;
  EXPECT_EQ(piqa.at("samples"), 3);
  EXPECT_TRUE(json.at("results").at("winogrande").contains("acc"));
  EXPECT_FALSE(json.at("results").at("winogrande").contains("acc_norm"));
  EXPECT_TRUE(json.at("results").at("last_word").contains("perplexity"));
  EXPECT_GT(json.at("results").at("text:text.txt").at("bits_per_byte").get<double>(), 0);
  EXPECT_EQ(json.at("versions").at("mmlu"), 1);
  EXPECT_EQ(json.at("config").at("attention"), nlohmann::json::array({"softmax"}));
  EXPECT_NE(result.out.find("| piqa | softmax | acc_norm |"), std::string::npos) << result.out;
  EXPECT_NE(lincat::eval::read_text_file(dir.file("results.md")).find("| mode | task average |"), std::string::npos);
}

TEST(EvalCli, SeveralModesOnOneConvertedModel) {
  lincat::test::TempDir dir;
  lincat::test::write_converted_fixture(dir.file("model"), lincat::test::Branches::Trained);
  const auto result = run_lincat("eval " + dir.file("model") + " --tokenizer " + kTinyTokenizer + " --data-dir " +
                                 kEvalData + " --tasks piqa --attention hybrid,window,linear --limit 2 --output " +
                                 dir.file("r.json"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto json = nlohmann::json::parse(lincat::eval::read_text_file(dir.file("r.json")));
  for (const char* key : {"piqa@hybrid", "piqa@window", "piqa@linear"}) {
    EXPECT_EQ(json.at("results").at(key).at("samples"), 2) << key;
  }
  EXPECT_EQ(json.at("config").at("limit"), 2);
}

TEST(EvalCli, BadInputExitsTwoWithTheReason) {
  const auto no_tokenizer = run_lincat("eval " + kLlamaFixture + " --tasks piqa --data-dir " + kEvalData);
  EXPECT_EQ(no_tokenizer.exit_code, 2);
  EXPECT_NE(no_tokenizer.err.find("has no tokenizer.json or tokenizer.model; pass one with --tokenizer"), std::string::npos)
      << no_tokenizer.err;
  const auto bad_line = run_lincat("eval " + kLlamaFixture + " --tokenizer " + kTinyTokenizer +
                                   " --tasks piqa --data-dir " + kEvalData + "/malformed");
  EXPECT_EQ(bad_line.exit_code, 2);
  EXPECT_NE(bad_line.err.find("error: " + kEvalData + "/malformed/piqa.jsonl:2:"), std::string::npos) << bad_line.err;
  const auto softmax_only = run_lincat("eval " + kLlamaFixture + " --tokenizer " + kTinyTokenizer +
                                       " --tasks piqa --data-dir " + kEvalData + " --attention hybrid");
  EXPECT_EQ(softmax_only.exit_code, 2);
  EXPECT_NE(softmax_only.err.find("convert it first"), std::string::npos) << softmax_only.err;
}

TEST(EvalCli, DiagnoseWritesTheReportAndPrintsTheVerdict) {
  lincat::test::TempDir dir;
  lincat::test::write_converted_fixture(dir.file("model"), lincat::test::Branches::Collapsed);
  const auto result = run_lincat("diagnose " + dir.file("model") + " --base " + kLlamaFixture + " --tokenizer " +
                                 kTinyTokenizer + " --data-dir " + kEvalData + " --tasks piqa,arc_easy --probe-items 1"
                                 " --out " + dir.file("report"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out.rfind("The linear branch is NOT used", 0), 0u) << result.out;
  for (const char* file : {"report.md", "report.json", "linear_share.svg", "mode_accuracy.svg", "probe_passkey.svg",
                           "probe_associative_recall.svg"}) {
    EXPECT_FALSE(lincat::eval::read_text_file(dir.file("report/") + file).empty()) << file;
  }
}

}  // namespace

namespace {

TEST(EvalCli, BenchEvalTimesEveryRequestedMode) {
  lincat::test::TempDir dir;
  lincat::test::write_converted_fixture(dir.file("model"), lincat::test::Branches::Trained);
  const auto result = run_lincat("bench eval " + dir.file("model") +
                                  " --attention softmax,hybrid --items 5 --json " + dir.file("b.json"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto json = nlohmann::json::parse(lincat::eval::read_text_file(dir.file("b.json")));
  ASSERT_EQ(json.at("runs").size(), 2u);
  EXPECT_EQ(json.at("runs")[1].at("mode"), "hybrid");
  EXPECT_GT(json.at("runs")[1].at("seconds").get<double>(), 0);
}

}  // namespace
