// The diagnostics call a collapsed model collapsed and a linear-only model linear-only, with the
// numbers behind the verdict, and write every report file well-formed.
#include <gtest/gtest.h>

#include <cmath>
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

lincat::eval::DiagnoseReport diagnose_fixture(Branches branches, bool text_usage = false, bool perplexity = false) {
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
  if (perplexity) {  // windows of 32 tokens every 16
    std::string text;
    for (int i = 0; i < 12; ++i) text += "a cat sat on the mat while the dog ran far away to the woods. ";
    settings.perplexity = lincat::eval::perplexity_text(*tokenizer, lincat::eval::bos_encoder(*tokenizer, *model),
                                                        *model, text, "prose.txt", 32, 16);
  }
  return lincat::eval::diagnose(*model, "converted", *base, "base", *tokenizer, settings);
}

const lincat::eval::PairedDifference* find_paired(const lincat::eval::DiagnoseReport& report, const std::string& what,
                                                  const std::string& a, const std::string& b) {
  for (const auto& d : report.paired) {
    if (d.what == what && d.a == a && d.b == b) return &d;
  }
  return nullptr;
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

// Bits per byte in every mode on the same windows, and each paired comparison window by window:
// a mode against itself differs by exactly 0; the report files carry the rows and the BOS choice.
TEST(EvalDiagnose, BitsPerBytePairedWindowByWindow) {
  const auto report = diagnose_fixture(Branches::Trained, false, true);
  EXPECT_EQ(report.perplexity_source, "prose.txt");
  EXPECT_EQ(report.perplexity_window, 32);
  ASSERT_EQ(report.modes.size(), 7u);
  const size_t windows = report.modes[0].perplexity.value().windows.size();
  EXPECT_GT(windows, 4u);
  for (const auto& m : report.modes) {
    ASSERT_TRUE(m.perplexity.has_value()) << m.name;
    EXPECT_EQ(m.perplexity->windows.size(), windows) << m.name;
    EXPECT_GT(m.perplexity->bits_per_byte, 0) << m.name;
  }
  for (const auto& [a, b] : lincat::eval::paired_mode_comparisons()) {
    const auto* d = find_paired(report, "bits per byte", a, b);
    ASSERT_NE(d, nullptr) << a << " - " << b;
    EXPECT_EQ(d->metric, lincat::eval::PairedMetric::BitsPerByte);
    EXPECT_EQ(d->items, static_cast<int64_t>(windows));
    const auto bits = [&report](const std::string& name) {
      for (const auto& m : report.modes) {
        if (m.name == name) return m.perplexity->bits_per_byte;
      }
      return std::nan("");
    };
    EXPECT_NEAR(d->difference, bits(a) - bits(b), 1e-9) << a << " - " << b;
    EXPECT_LE(d->low, d->difference + 1e-12);
    EXPECT_GE(d->high, d->difference - 1e-12);
  }
  const auto same = lincat::eval::compare_paired(report.modes[1], report.modes[1], report.window, report.window_reach,
                                                 "hybrid", "hybrid");
  int bits_rows = 0;
  for (const auto& d : same) {
    EXPECT_EQ(d.difference, 0.0) << d.what;
    EXPECT_FALSE(d.distinguishable) << d.what;
    if (d.metric == lincat::eval::PairedMetric::BitsPerByte) {
      ++bits_rows;
      EXPECT_EQ(d.low, 0.0);
      EXPECT_EQ(d.high, 0.0);
    }
  }
  EXPECT_EQ(bits_rows, 1);

  lincat::test::TempDir out;
  lincat::eval::write_diagnose_report(report, out.file("report"));
  const auto json = nlohmann::json::parse(lincat::eval::read_text_file(out.file("report/report.json")));
  EXPECT_EQ(json.at("add_bos"), "auto");
  EXPECT_EQ(json.at("bos_added"), true);
  EXPECT_EQ(json.at("perplexity").at("text"), "prose.txt");
  EXPECT_EQ(json.at("perplexity").at("windows").get<size_t>(), windows);
  EXPECT_DOUBLE_EQ(json.at("modes").at("linear").at("bits_per_byte").get<double>(),
                   report.modes[3].perplexity->bits_per_byte);
  int json_rows = 0;
  for (const auto& row : json.at("paired")) {
    if (row.at("metric") != "bits_per_byte") continue;
    ++json_rows;
    EXPECT_TRUE(row.at("mcnemar_p").is_null());
    EXPECT_TRUE(row.at("only_a").is_null());
  }
  EXPECT_EQ(json_rows, 3);
  const std::string markdown = lincat::eval::read_text_file(out.file("report/report.md"));
  EXPECT_NE(markdown.find("| bits per byte | hybrid - window | " + std::to_string(windows) + " | "), std::string::npos)
      << markdown;
  EXPECT_NE(markdown.find(" bits/byte ["), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("--add-bos auto (a BOS in front"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| bits per byte |\n"), std::string::npos) << markdown;  // the per-mode column
}

// A collapsed model's hybrid is its window only: the same bits per byte window by window, up to rounding.
TEST(EvalDiagnose, CollapsedHybridMatchesWindowInBitsPerByte) {
  const auto report = diagnose_fixture(Branches::Collapsed, false, true);
  const auto* d = find_paired(report, "bits per byte", "hybrid", "window");
  ASSERT_NE(d, nullptr);
  EXPECT_NEAR(d->difference, 0.0, 1e-5);
  EXPECT_NEAR(d->low, 0.0, 1e-5);
  EXPECT_NEAR(d->high, 0.0, 1e-5);
  const auto* base = find_paired(report, "bits per byte", "hybrid", "base");
  ASSERT_NE(base, nullptr);
  EXPECT_GT(std::abs(base->difference), 1e-3);  // the test sees differences where there are some
}

TEST(EvalDiagnose, TextSequencesAreCutInOrderWithBos) {
  const std::vector<int64_t> tokens = {5, 6, 7, 8, 9, 10, 11};
  const auto sequences = lincat::eval::text_sequences(tokens, 1, 3, 3, "t");
  EXPECT_EQ(sequences, (std::vector<std::vector<int64_t>>{{1, 5, 6}, {1, 7, 8}, {1, 9, 10}}));
  EXPECT_THROW(lincat::eval::text_sequences(tokens, 1, 3, 4, "t"), lincat::UserError);
}

}  // namespace
