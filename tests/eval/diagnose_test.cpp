// The diagnostics call a collapsed model collapsed and a linear-only model linear-only, with the
// numbers behind the verdict, and write every report file well-formed.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "eval/eval_test_support.h"
#include "eval/svg_well_formed.h"
#include "lincat/eval/diagnose_report.h"
#include "lincat/eval/record_files.h"
#include "lincat/eval/task_readers.h"
#include "lincat/util/error.h"
#include "support/temp_dir.h"

namespace {

using lincat::eval::VerdictKind;
using lincat::test::Branches;

lincat::eval::DiagnoseReport diagnose_fixture(Branches branches, bool text_usage = false) {
  lincat::test::TempDir dir;
  lincat::test::write_converted_fixture(dir.path(), branches);
  const auto model = lincat::load_model(dir.path());
  const auto base = lincat::load_model(lincat::test::kLlamaFixture);
  const auto tokenizer = lincat::io::Tokenizer::load(lincat::test::kTinyTokenizer);
  lincat::eval::DiagnoseSettings settings;
  settings.tasks = {lincat::eval::load_task("piqa", lincat::test::kEvalData, 0),
                    lincat::eval::load_task("winogrande", lincat::test::kEvalData, 0)};
  settings.probe_items = 2;
  if (text_usage) {  // 8 sequences of 4w tokens of prose-like text
    std::string text;
    for (int i = 0; i < 400; ++i) text += "the quick brown fox jumps over the lazy dog and runs far away. ";
    const int64_t length = 4 * model->config.hybrid->window;
    settings.usage_sequences = lincat::eval::text_sequences(tokenizer->encode(text), tokenizer->bos_id(), length, 8, "text");
    settings.usage_source = "8 test sequences";
  }
  return lincat::eval::diagnose(*model, "converted", *base, "base", *tokenizer, settings);
}

TEST(EvalDiagnose, CollapsedModelIsReportedAsCollapsed) {
  const auto report = diagnose_fixture(Branches::Collapsed);
  EXPECT_EQ(report.verdict.kind, VerdictKind::Collapsed);
  EXPECT_LT(report.usage.mean_linear_share, 1e-6);
  EXPECT_EQ(report.verdict.line.rfind("The linear branch is NOT used", 0), 0u) << report.verdict.line;
  EXPECT_NE(report.verdict.line.find("linear share 0.0%"), std::string::npos) << report.verdict.line;
  // With the linear branch contributing nothing, hybrid is window-only on every task and probe.
  const auto& hybrid = report.modes[1];
  const auto& window = report.modes[2];
  ASSERT_EQ(hybrid.name, "hybrid");
  ASSERT_EQ(window.name, "window");
  EXPECT_DOUBLE_EQ(hybrid.task_average, window.task_average);
  EXPECT_DOUBLE_EQ(hybrid.beyond_window_probe_accuracy, window.beyond_window_probe_accuracy);
  // Item by item the two agree: every paired hybrid - window difference is zero and not distinguishable.
  int compared = 0;
  for (const auto& d : report.paired) {
    if (d.a != "hybrid" || d.b != "window") continue;
    ++compared;
    EXPECT_EQ(d.only_a + d.only_b, 0) << d.what;
    EXPECT_FALSE(d.distinguishable) << d.what;
  }
  EXPECT_GE(compared, 2 + 2);  // two tasks, two probes beyond w
  EXPECT_EQ(report.window_reach, 2 * (8 - 1));  // L (w - 1)
}

TEST(EvalDiagnose, LinearOnlyModelIsReportedAsLinearOnly) {
  const auto report = diagnose_fixture(Branches::LinearOnly);
  EXPECT_EQ(report.verdict.kind, VerdictKind::LinearOnly);
  EXPECT_GT(report.usage.mean_linear_share, 0.99);
  EXPECT_EQ(report.verdict.line.rfind("The window branch is barely used", 0), 0u) << report.verdict.line;
  EXPECT_NE(report.verdict.line.find("linear share 100.0%"), std::string::npos) << report.verdict.line;
}

TEST(EvalDiagnose, ReportFilesAreWrittenAndWellFormed) {
  const auto report = diagnose_fixture(Branches::Trained);
  ASSERT_EQ(report.modes.size(), 7u);
  EXPECT_EQ(report.modes[6].name, "overlap");
  EXPECT_EQ(report.modes[0].name, "base");
  ASSERT_TRUE(report.modes[1].recovered.has_value() || report.modes[0].task_average == 0);
  EXPECT_EQ(report.usage.linear_share.size(), 2u);     // layers
  EXPECT_EQ(report.usage.linear_share[0].size(), 4u);  // heads
  lincat::test::TempDir out;
  const auto written = lincat::eval::write_diagnose_report(report, out.file("report"));
  EXPECT_EQ(written.size(), 6u);
  const auto json = nlohmann::json::parse(lincat::eval::read_text_file(out.file("report/report.json")));
  EXPECT_EQ(json.at("verdict_line"), report.verdict.line);
  EXPECT_EQ(json.at("modes").size(), 7u);
  EXPECT_EQ(json.at("default_mode"), "hybrid");
  EXPECT_TRUE(json.at("usage_intervals").is_null());  // 2 passkey contexts: no interval
  EXPECT_EQ(json.at("task_items"), 5);  // piqa 3 + winogrande 2
  EXPECT_LE(json.at("task_items_within_window").get<int64_t>(), 5);
  EXPECT_EQ(json.at("modes").at("window").at("probes").at("passkey").size(), 7u);
  EXPECT_TRUE(json.at("modes").at("hybrid").at("tasks").at("piqa").contains("acc_norm_stderr"));
  const std::string markdown = lincat::eval::read_text_file(out.file("report/report.md"));
  EXPECT_NE(markdown.find("**Verdict:** " + report.verdict.line), std::string::npos);
  EXPECT_NE(markdown.find("| sinks |"), std::string::npos);
  EXPECT_NE(markdown.find("| hybrid (default) |"), std::string::npos);
  EXPECT_NE(markdown.find("| overlap |"), std::string::npos);
  EXPECT_NE(markdown.find("| piqa | hybrid - window | 3 |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| passkey d > L(w-1) | linear - none |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("no window-only path reaches the facts at d = 16, 32"), std::string::npos) << markdown;
  EXPECT_EQ(json.at("paired").size(), report.paired.size());
  EXPECT_NE(markdown.find(" of 5 task items fit inside the window"), std::string::npos);
  for (const char* svg : {"linear_share.svg", "mode_accuracy.svg", "probe_passkey.svg", "probe_associative_recall.svg"}) {
    EXPECT_EQ(lincat::test::svg_problem(lincat::eval::read_text_file(out.file("report/") + svg)), "") << svg;
  }
}

// Usage on text: per layer and head with bootstrap intervals over sequences that hold the mean,
// repeat exactly, and call every layer of a collapsed model bypassed.
TEST(EvalDiagnose, UsageOnTextHasIntervalsAndPerLayerVerdicts) {
  const auto trained = diagnose_fixture(Branches::Trained, true);
  const auto& u = trained.usage;
  EXPECT_EQ(u.sequences, 8);
  EXPECT_EQ(trained.usage_source, "8 test sequences");
  ASSERT_EQ(u.layer_linear_share.size(), 2u);
  ASSERT_EQ(u.linear_share_interval.size(), 2u);
  ASSERT_EQ(u.linear_share_interval[0].size(), 4u);
  for (const auto& layer : u.layer_linear_share) {
    EXPECT_LE(layer.low, layer.mean + 1e-12);
    EXPECT_GE(layer.high, layer.mean - 1e-12);
    EXPECT_LT(layer.low, layer.high);  // the sequences differ
  }
  EXPECT_NEAR(u.linear_share_interval[1][2].mean, u.linear_share[1][2], 1e-12);
  const auto again = diagnose_fixture(Branches::Trained, true);
  EXPECT_EQ(again.usage.layer_linear_share[1].low, u.layer_linear_share[1].low);  // seeded
  EXPECT_EQ(again.usage.model_linear_output_share.high, u.model_linear_output_share.high);

  const auto collapsed = diagnose_fixture(Branches::Collapsed, true);
  EXPECT_EQ(lincat::eval::layer_usage_verdicts(collapsed.usage), (std::vector<std::string>{"bypassed", "bypassed"}));
  EXPECT_NE(collapsed.verdict.line.find("layers bypassed (upper bound below 5%): 0, 1"), std::string::npos)
      << collapsed.verdict.line;
  lincat::test::TempDir out;
  lincat::eval::write_diagnose_report(collapsed, out.file("report"));
  const std::string markdown = lincat::eval::read_text_file(out.file("report/report.md"));
  EXPECT_NE(markdown.find("| 0 | 0.0% [0.0, 0.0] |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| bypassed |"), std::string::npos);
  const auto json = nlohmann::json::parse(lincat::eval::read_text_file(out.file("report/report.json")));
  EXPECT_EQ(json.at("layer_verdicts")[0], "bypassed");
  EXPECT_EQ(json.at("usage_intervals").at("linear_share_per_layer").size(), 2u);
}

TEST(EvalDiagnose, TextSequencesAreCutInOrderWithBos) {
  const std::vector<int64_t> tokens = {5, 6, 7, 8, 9, 10, 11};
  const auto sequences = lincat::eval::text_sequences(tokens, 1, 3, 3, "t");
  EXPECT_EQ(sequences, (std::vector<std::vector<int64_t>>{{1, 5, 6}, {1, 7, 8}, {1, 9, 10}}));
  EXPECT_THROW(lincat::eval::text_sequences(tokens, 1, 3, 4, "t"), lincat::UserError);
}

}  // namespace
