// The demo's tables: Table 1 of arXiv 2510.05901 per recipe and the summary across recipes, from
// known numbers, in the order and units the README promises; the JSON carries the same numbers.
#include <gtest/gtest.h>

#include <cmath>

#include "lincat/demo/demo_report.h"

namespace lincat::demo {
namespace {

eval::ModeScores scores(const std::string& name, double next_sentence, double last_word, double beyond) {
  eval::ModeScores m;
  m.name = name;
  for (const auto& [task, value] : {std::pair<std::string, double>{"next_sentence", next_sentence}, {"last_word", last_word}}) {
    eval::TaskResult t;
    t.task = task;
    t.main_metric = "acc";
    t.metrics["acc"] = {value, std::nullopt};
    m.tasks.push_back(t);
  }
  m.task_average = (next_sentence + last_word) / 2;
  m.beyond_window_probe_accuracy = beyond;
  return m;
}

RecipeOutcome outcome(const std::string& recipe, double linear_share) {
  RecipeOutcome o;
  o.recipe = recipe;
  o.directory = "out/" + recipe;
  eval::DiagnoseReport& r = o.diagnose;
  r.window = 32;
  r.modes = {scores("base", 0.6, 0.4, 0.9), scores("hybrid", 0.5, 0.3, 0.7), scores("window", 0.4, 0.3, 0.25),
             scores("linear", 0.3, 0.1, 0.5), scores("sinks", 0.25, 0.0, 0.25), scores("none", 0.2, 0.0, 0.25)};
  for (size_t i = 1; i < r.modes.size(); ++i) r.modes[i].recovered = 100 * r.modes[i].task_average / 0.5;
  r.usage.mean_linear_share = linear_share;
  r.usage.mean_linear_output_share = linear_share / 2;
  r.verdict = {linear_share < eval::kCollapseShare ? eval::VerdictKind::Collapsed : eval::VerdictKind::LinearUsed,
               "verdict line of " + recipe};
  for (auto& [name, bits] : std::vector<std::pair<std::string, double>>{
           {"base", 1.5}, {"hybrid", 1.75}, {"window", 2.0}, {"linear", 3.0}, {"sinks", 6.0}, {"none", 7.125}}) {
    for (auto& m : r.modes) {
      if (m.name == name) m.perplexity = eval::PerplexityResult{0, bits, 0, 0, 0, {}};
    }
  }
  o.convert_seconds = 61;
  o.diagnose_seconds = 30;
  return o;
}

TEST(DemoReport, RecipeTableIsTable1WithTheLinearShare) {
  const std::string table = recipe_table_markdown(outcome("lolcats", 0.234));
  EXPECT_NE(table.find("### lolcats: linear share 23.4% of the normaliser, 11.7% of the output (verdict: used)"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("| base | hybrid | window only | linear only | sinks only | none |"), std::string::npos) << table;
  EXPECT_NE(table.find("| next_sentence (acc) | 60.0 | 50.0 | 40.0 | 30.0 | 25.0 | 20.0 |"), std::string::npos) << table;
  EXPECT_NE(table.find("| last_word (acc) | 40.0 | 30.0 | 30.0 | 10.0 | 0.0 | 0.0 |"), std::string::npos) << table;
  EXPECT_NE(table.find("| task average | 50.0 | 40.0 | 35.0 | 20.0 | 12.5 | 10.0 |"), std::string::npos) << table;
  EXPECT_NE(table.find("| recovered | 100.0 | 80.0 | 70.0 | 40.0 | 25.0 | 20.0 |"), std::string::npos) << table;
  EXPECT_NE(table.find("| probes beyond w | 90.0 | 70.0 | 25.0 | 50.0 | 25.0 | 25.0 |"), std::string::npos) << table;
  EXPECT_NE(table.find("| bits per byte (lower is better) | 1.500 | 1.750 | 2.000 | 3.000 | 6.000 | 7.125 |"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("verdict line of lolcats"), std::string::npos);
}

TEST(DemoReport, WithoutPerplexityTextThereIsNoBitsPerByteRow) {
  RecipeOutcome o = outcome("ssd", 0.3);
  for (auto& m : o.diagnose.modes) m.perplexity.reset();
  EXPECT_EQ(recipe_table_markdown(o).find("bits per byte"), std::string::npos);
}

TEST(DemoReport, SummaryHasOneRowPerRecipeInOrder) {
  DemoReport report;
  report.recipes = {outcome("lolcats", 0.234), outcome("linear", 0.01)};
  const std::string table = summary_table_markdown(report);
  const size_t lolcats = table.find("| lolcats | 50.0 | 40.0 | 35.0 | 20.0 | 80.0 | 90.0 | 70.0 | 25.0 | 50.0 | 25.0 | "
                                    "25.0 | 23.4% | used |");
  const size_t linear = table.find("| linear | 50.0 | 40.0 | 35.0 | 20.0 | 80.0 | 90.0 | 70.0 | 25.0 | 50.0 | 25.0 | "
                                   "25.0 | 1.0% | collapsed |");
  ASSERT_NE(lolcats, std::string::npos) << table;
  ASSERT_NE(linear, std::string::npos) << table;
  EXPECT_LT(lolcats, linear);
  EXPECT_EQ(table.find("| recipe | base | hybrid | window | linear | recovered |"), 0u) << table;
}

TEST(DemoReport, JsonCarriesTheTableNumbersAndTimes) {
  DemoReport report;
  report.teacher = "models/teacher";
  report.recipes = {outcome("hedgecats", 0.5)};
  report.total_seconds = 95;
  const nlohmann::json json = demo_json(report);
  const nlohmann::json& r = json.at("recipes").at(0);
  EXPECT_EQ(r.at("recipe"), "hedgecats");
  EXPECT_DOUBLE_EQ(r.at("modes").at("hybrid").at("task_average").get<double>(), 0.4);
  EXPECT_DOUBLE_EQ(r.at("modes").at("hybrid").at("recovered").get<double>(), 80.0);
  EXPECT_DOUBLE_EQ(r.at("modes").at("base").at("recovered").get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(r.at("modes").at("linear").at("probe_accuracy_beyond_window").get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(r.at("modes").at("none").at("bits_per_byte").get<double>(), 7.125);
  EXPECT_DOUBLE_EQ(r.at("mean_linear_share").get<double>(), 0.5);
  EXPECT_EQ(r.at("verdict"), "used");
  EXPECT_DOUBLE_EQ(r.at("seconds").at("conversion").get<double>(), 61);
  EXPECT_DOUBLE_EQ(json.at("total_seconds").get<double>(), 95);
}

// demo --seeds N: one row per recipe with mean ± sample sd [min, max] of each number over the seeds.
TEST(DemoReport, SeedsTableGivesMeanAndSpread) {
  DemoReport report;
  report.recipes = {outcome("lolcats", 0.2)};
  std::vector<SeedScores> runs = {seed_scores(outcome("lolcats", 0.2), 1), seed_scores(outcome("lolcats", 0.4), 2)};
  runs[1].task_average["hybrid"] = 0.6;  // 0.4 and 0.6: mean 50.0, sd 14.1
  report.seeds = {{"lolcats", runs}};
  const std::string table = seeds_table_markdown(report);
  EXPECT_NE(table.find("| lolcats | 2 | 50.0 ± 14.1 [40.0, 60.0] | 35.0 ± 0.0 [35.0, 35.0] |"), std::string::npos) << table;
  EXPECT_NE(table.find("| 30.0 ± 14.1 [20.0, 40.0] |"), std::string::npos) << table;  // linear share
  EXPECT_NE(demo_markdown(report).find("## Across seeds"), std::string::npos);
  report.seeds = {{"lolcats", {runs[0]}}};  // one seed: no table
  EXPECT_EQ(seeds_table_markdown(report), "");
  EXPECT_EQ(demo_markdown(report).find("## Across seeds"), std::string::npos);
}

// Each recipe against lolcats: accuracy rows in points with McNemar's p, the bits-per-byte row in
// bits per byte with no p (its interval decides), in the Markdown and the JSON.
TEST(DemoReport, AgainstLolcatsHasAccuracyAndBitsPerByteRows) {
  DemoReport report;
  report.recipes = {outcome("lolcats", 0.2), outcome("ssd", 0.3)};
  report.against_lolcats = {
      eval::paired_difference("next_sentence", "ssd", {true, true, false, true}, "lolcats", {true, false, false, false}),
      eval::paired_bits_per_byte("bits per byte", "ssd", {1.0, 2.0, 3.0}, "lolcats", {1.5, 2.5, 3.5}, {10, 10, 10})};
  const std::string markdown = demo_markdown(report);
  EXPECT_NE(markdown.find("| next_sentence | ssd - lolcats | 4 | +50.0 points ["), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| bits per byte | ssd - lolcats | 3 | -0.0721 bits/byte [-0.0721, -0.0721] | — | "
                          "distinguishable |"),
            std::string::npos)
      << markdown;
  const nlohmann::json json = demo_json(report).at("against_lolcats");
  ASSERT_EQ(json.size(), 2u);
  EXPECT_EQ(json[0].at("metric"), "accuracy");
  EXPECT_FALSE(json[0].at("mcnemar_p").is_null());
  EXPECT_EQ(json[1].at("metric"), "bits_per_byte");
  EXPECT_NEAR(json[1].at("difference").get<double>(), -1.5 / (30 * std::log(2.0)), 1e-12);
  EXPECT_TRUE(json[1].at("mcnemar_p").is_null());
}

}  // namespace
}  // namespace lincat::demo
