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
#include "support/temp_dir.h"

namespace {

using lincat::eval::VerdictKind;
using lincat::test::Branches;

lincat::eval::DiagnoseReport diagnose_fixture(Branches branches) {
  lincat::test::TempDir dir;
  lincat::test::write_converted_fixture(dir.path(), branches);
  const auto model = lincat::load_model(dir.path());
  const auto base = lincat::load_model(lincat::test::kLlamaFixture);
  const auto tokenizer = lincat::io::Tokenizer::load(lincat::test::kTinyTokenizer);
  lincat::eval::DiagnoseSettings settings;
  settings.tasks = {lincat::eval::load_task("piqa", lincat::test::kEvalData, 0),
                    lincat::eval::load_task("winogrande", lincat::test::kEvalData, 0)};
  settings.probe_items = 2;
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
  ASSERT_EQ(report.modes.size(), 6u);
  EXPECT_EQ(report.modes[0].name, "base");
  ASSERT_TRUE(report.modes[1].recovered.has_value() || report.modes[0].task_average == 0);
  EXPECT_EQ(report.usage.linear_share.size(), 2u);     // layers
  EXPECT_EQ(report.usage.linear_share[0].size(), 4u);  // heads
  lincat::test::TempDir out;
  const auto written = lincat::eval::write_diagnose_report(report, out.file("report"));
  EXPECT_EQ(written.size(), 6u);
  const auto json = nlohmann::json::parse(lincat::eval::read_text_file(out.file("report/report.json")));
  EXPECT_EQ(json.at("verdict_line"), report.verdict.line);
  EXPECT_EQ(json.at("modes").size(), 6u);
  EXPECT_EQ(json.at("task_items"), 5);  // piqa 3 + winogrande 2
  EXPECT_LE(json.at("task_items_within_window").get<int64_t>(), 5);
  EXPECT_EQ(json.at("modes").at("window").at("probes").at("passkey").size(), 7u);
  EXPECT_TRUE(json.at("modes").at("hybrid").at("tasks").at("piqa").contains("acc_norm_stderr"));
  const std::string markdown = lincat::eval::read_text_file(out.file("report/report.md"));
  EXPECT_NE(markdown.find("**Verdict:** " + report.verdict.line), std::string::npos);
  EXPECT_NE(markdown.find("| sinks |"), std::string::npos);
  EXPECT_NE(markdown.find(" of 5 task items fit inside the window"), std::string::npos);
  for (const char* svg : {"linear_share.svg", "mode_accuracy.svg", "probe_passkey.svg", "probe_associative_recall.svg"}) {
    EXPECT_EQ(lincat::test::svg_problem(lincat::eval::read_text_file(out.file("report/") + svg)), "") << svg;
  }
}

}  // namespace
