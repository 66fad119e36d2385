// `lincat eval` and `lincat diagnose` as a user runs them.
#include <gtest/gtest.h>

#include <sstream>

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
  // lm-evaluation-harness 0.4's keys: "metric,filter", an alias, n-samples, higher_is_better, configs.
  const auto& piqa = json.at("results").at("piqa");
  for (const char* key : {"acc,none", "acc_stderr,none", "acc_norm,none", "acc_norm_stderr,none"}) {
    EXPECT_TRUE(piqa.contains(key)) << key;
  }
  EXPECT_EQ(piqa.at("alias"), "piqa");
  EXPECT_EQ(json.at("n-samples").at("piqa").at("effective"), 3);
  EXPECT_EQ(json.at("n-samples").at("piqa").at("original"), 3);
  EXPECT_EQ(json.at("higher_is_better").at("piqa").at("acc"), true);
  EXPECT_EQ(json.at("higher_is_better").at("last_word").at("perplexity"), false);
  EXPECT_EQ(json.at("configs").at("piqa").at("doc_to_text"), "Question: {{goal}}\nAnswer:");
  EXPECT_EQ(json.at("configs").at("piqa").at("target_delimiter"), " ");
  EXPECT_EQ(json.at("configs").at("piqa").at("num_fewshot"), 0);
  // LoLCATs' metric per task: acc for PIQA, ARC-Easy, WinoGrande, MMLU; acc_norm for HellaSwag.
  for (const char* task : {"piqa", "arc_easy", "winogrande", "mmlu"}) {
    EXPECT_EQ(json.at("configs").at(task).at("main_metric"), "acc") << task;
  }
  EXPECT_EQ(json.at("configs").at("hellaswag").at("main_metric"), "acc_norm");
  EXPECT_TRUE(json.at("results").at("winogrande").contains("acc,none"));
  EXPECT_FALSE(json.at("results").at("winogrande").contains("acc_norm,none"));
  EXPECT_TRUE(json.at("results").at("last_word").contains("perplexity,none"));
  EXPECT_GT(json.at("results").at("text:text.txt").at("bits_per_byte,none").get<double>(), 0);
  EXPECT_EQ(json.at("versions").at("mmlu"), 1);
  EXPECT_EQ(json.at("n-shot").at("mmlu"), 0);
  // MMLU: every subject in the results; the task is their unweighted mean.
  const auto& subjects = json.at("group_subtasks").at("mmlu");
  ASSERT_GE(subjects.size(), 2u);
  double sum = 0;
  for (const auto& subject : subjects) {
    const auto& entry = json.at("results").at(subject.get<std::string>());
    EXPECT_EQ(entry.at("alias").get<std::string>().rfind(" - ", 0), 0u) << entry;
    EXPECT_EQ(json.at("n-samples").at(subject.get<std::string>()).at("original"),
              json.at("n-samples").at(subject.get<std::string>()).at("effective"));  // no --limit
    sum += entry.at("acc,none").get<double>();
  }
  EXPECT_NEAR(json.at("results").at("mmlu").at("acc,none").get<double>(), sum / subjects.size(), 1e-12);
  EXPECT_EQ(json.at("config").at("attention"), nlohmann::json::array({"softmax"}));
  EXPECT_EQ(json.at("config").at("dtype"), "float32");
  EXPECT_TRUE(json.at("config").contains("bos_added"));
  EXPECT_NE(result.out.find("| piqa | softmax | acc_norm |"), std::string::npos) << result.out;
  EXPECT_NE(result.err.find("piqa@softmax: 3/3 items"), std::string::npos) << result.err;
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
    EXPECT_EQ(json.at("n-samples").at(key).at("effective"), 2) << key;
    EXPECT_EQ(json.at("results").at(key).at("alias"), key);
    EXPECT_EQ(json.at("configs").at(key).at("attention_mode"), std::string(key).substr(5));
  }
  EXPECT_EQ(json.at("config").at("limit"), 2);
}

// --log-samples: one line per item per task and mode, enough to recheck every score.
TEST(EvalCli, LogSamplesWritesOneRecordPerItem) {
  lincat::test::TempDir dir;
  lincat::test::write_converted_fixture(dir.file("model"), lincat::test::Branches::Trained);
  const auto result = run_lincat("eval " + dir.file("model") + " --tokenizer " + kTinyTokenizer + " --data-dir " +
                                 kEvalData + " --tasks piqa,last_word --attention hybrid,window --output " +
                                 dir.file("r.json") + " --log-samples");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto json = nlohmann::json::parse(lincat::eval::read_text_file(dir.file("r.json")));
  for (const char* key : {"piqa@hybrid", "piqa@window", "last_word@hybrid"}) {
    std::istringstream lines(lincat::eval::read_text_file(dir.file(std::string("samples_") + key + ".jsonl")));
    double correct = 0;
    int count = 0;
    for (std::string line; std::getline(lines, line); ++count) {
      const auto sample = nlohmann::json::parse(line);
      EXPECT_EQ(sample.at("doc_id"), count);
      ASSERT_TRUE(sample.at("arguments").contains("gen_args_0")) << line;
      EXPECT_TRUE(sample.at("arguments").at("gen_args_0").contains("arg_1"));
      EXPECT_TRUE(sample.at("resps")[0][0][1].is_boolean()) << line;
      EXPECT_TRUE(sample.contains("target"));
      correct += sample.at("acc").get<double>();
      if (std::string(key).rfind("piqa", 0) == 0) {
        EXPECT_TRUE(sample.contains("acc_norm"));
        // acc is the argmax of the logged log-likelihoods.
        const double a = sample.at("resps")[0][0][0], b = sample.at("resps")[1][0][0];
        EXPECT_EQ(sample.at("acc").get<double>(), (b > a ? 1 : 0) == sample.at("target").get<int>() ? 1.0 : 0.0);
      }
    }
    EXPECT_EQ(count, json.at("n-samples").at(key).at("effective").get<int>()) << key;
    EXPECT_NEAR(correct / count, json.at("results").at(key).at("acc,none").get<double>(), 1e-12) << key;
  }
  const auto missing = run_lincat("eval " + dir.file("model") + " --tokenizer " + kTinyTokenizer + " --data-dir " +
                                  kEvalData + " --tasks piqa --log-samples");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("--log-samples needs --output"), std::string::npos) << missing.err;
  const auto bad_folder = run_lincat("eval " + dir.file("no-model") + " --tokenizer " + kTinyTokenizer +
                                     " --data-dir " + kEvalData + " --tasks piqa --output " + dir.file("none/r.json"));
  EXPECT_EQ(bad_folder.exit_code, 2);
  EXPECT_NE(bad_folder.err.find("--output"), std::string::npos) << bad_folder.err;  // before the model loads
}

TEST(EvalCli, BadInputExitsTwoWithTheReason) {
  const auto no_tokenizer = run_lincat("eval " + kLlamaFixture + " --tasks piqa --data-dir " + kEvalData);
  EXPECT_EQ(no_tokenizer.exit_code, 2);
  const std::string no_tokenizer_message =
      "--tokenizer: none given, and " + kLlamaFixture + " has no tokenizer.json or tokenizer.model";
  EXPECT_NE(no_tokenizer.err.find(no_tokenizer_message), std::string::npos) << no_tokenizer.err;
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
