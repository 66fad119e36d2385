// `lincat demo` end to end on a tiny stand-in (the 2-layer test teacher, generated text, the
// held-out test tasks, the committed demo recipes shrunk by --set and step flags): every report
// file is written, the tables have their rows, the summary agrees with each recipe's diagnose
// report, and a bad teacher path fails with exit 2 naming the flag and the path.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>

#include "support/run_program.h"
#include "support/safetensors_bytes.h"
#include "support/temp_dir.h"
#include "support/tiny_teacher.h"
#include "test_paths.h"

namespace lincat::demo {
namespace {

namespace fs = std::filesystem;
using test::run_lincat;

const std::string kRecipes = std::string(LINCAT_TEST_DATA) + "/../../recipes/demo";
const std::string kHeldout = std::string(LINCAT_TEST_DATA) + "/eval/heldout";
const std::string kText = std::string(LINCAT_TEST_DATA) + "/eval/text.txt";
const std::vector<std::string> kRecipeNames = {"lolcats", "hedgecats", "ssd", "linear"};

// The demo's flags with the tiny stand-ins; `teacher` replaces the tiny teacher when given.
std::string demo_flags(const test::TempDir& dir, const std::string& teacher, const std::string& out = "out") {
  return "demo --teacher " + teacher + " --data " + dir.file("text.txt") + " --heldout " + kHeldout +
         " --perplexity-text " + kText + " --recipes-dir " + kRecipes + " --out " + dir.file(out) +
         " --stage1-steps 2 --stage2-steps 2 --limit 4 --probe-items 1" + test::tiny_recipe_flags(dir.file("cache"));
}

nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(test::read_bytes(path)); }

TEST(Demo, ConvertsEveryRecipeAndWritesTheReport) {
  test::TempDir dir;
  ::setenv("LINCAT_THREADS", "1", 1);
  const std::string teacher = test::write_tiny_teacher(dir.file("teacher"));
  test::write_bytes(dir.file("text.txt"), test::tiny_text(1200));
  const auto run = run_lincat(demo_flags(dir, teacher));
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  const std::string out = dir.file("out");

  // Progress: the demo's stage lines with an ETA, the conversions' step lines.
  EXPECT_NE(run.out.find("== [1/4] lolcats: conversion"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("== [4/4] linear: diagnostics"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("demo ETA"), std::string::npos) << run.out;
  EXPECT_NE(run.err.find("stage 2 step 2/2"), std::string::npos) << run.err;
  EXPECT_NE(run.out.find("total wall time"), std::string::npos) << run.out;
  // Eval's progress lines for the tasks, probes and usage pass of each diagnosis.
  for (const char* label : {"next_sentence@hybrid: ", "passkey@window: ", "associative_recall@base: ", "usage@hybrid: "}) {
    EXPECT_NE(run.err.find(label), std::string::npos) << label << "\n" << run.err;
  }
  EXPECT_NE(run.err.find(" items/s, "), std::string::npos) << run.err;

  for (const char* file : {"demo_report.md", "demo_report.json", "linear_share.svg", "probes_beyond_window.svg"}) {
    EXPECT_TRUE(fs::exists(out + "/" + file)) << file;
  }
  const nlohmann::json demo = read_json(out + "/demo_report.json");
  ASSERT_EQ(demo.at("recipes").size(), kRecipeNames.size());
  const std::string markdown = test::read_bytes(out + "/demo_report.md");
  for (size_t i = 0; i < kRecipeNames.size(); ++i) {
    const std::string& name = kRecipeNames[i];
    const std::string recipe_dir = out + "/" + name;
    for (const char* file : {"recipe.yaml", "train_log.jsonl", "model.safetensors", "diagnose/report.md",
                             "diagnose/report.json", "diagnose/linear_share.svg", "diagnose/mode_accuracy.svg",
                             "diagnose/probe_passkey.svg", "diagnose/probe_associative_recall.svg"}) {
      EXPECT_TRUE(fs::exists(recipe_dir + "/" + file)) << name << ": " << file;
    }
    // The committed recipe, with the test's overrides applied.
    const std::string recipe = test::read_bytes(recipe_dir + "/recipe.yaml");
    EXPECT_NE(recipe.find("name: " + name), std::string::npos) << recipe;
    EXPECT_NE(recipe.find("window: 16"), std::string::npos) << recipe;

    // The summary holds what each recipe's own diagnose report says.
    const nlohmann::json& row = demo.at("recipes").at(i);
    const nlohmann::json diagnose = read_json(recipe_dir + "/diagnose/report.json");
    EXPECT_EQ(row.at("recipe"), name);
    EXPECT_EQ(row.at("verdict"), diagnose.at("verdict"));
    EXPECT_EQ(row.at("mean_linear_share"), diagnose.at("mean_linear_share"));
    for (const char* mode : {"base", "hybrid", "window", "linear", "sinks", "none"}) {
      EXPECT_EQ(row.at("modes").at(mode).at("task_average"), diagnose.at("modes").at(mode).at("task_average")) << mode;
      EXPECT_GT(row.at("modes").at(mode).at("bits_per_byte").get<double>(), 0) << mode;
    }

    // Table 1 for the recipe, printed and in the report, then its summary row.
    const std::string heading = "### " + name + ": linear share ";
    EXPECT_NE(run.out.find(heading), std::string::npos) << name;
    const size_t table = markdown.find(heading);
    ASSERT_NE(table, std::string::npos) << name;
    const std::string body = markdown.substr(table, markdown.find("\n\n", markdown.find("| none |", table)) - table);
    for (const char* row_label : {"| next_sentence (acc", "| last_word (acc) |", "| task average |",
                                  "| recovered | 100.0 |", "| probes beyond w |", "| bits per byte"}) {
      EXPECT_NE(markdown.find(row_label, table), std::string::npos) << name << ": " << row_label;
    }
    EXPECT_NE(body.find("| base | hybrid | window only | linear only | sinks only | none |"), std::string::npos) << body;
    EXPECT_NE(markdown.find("\n| " + name + " | "), std::string::npos) << name;
  }
  // Each recipe against lolcats, bits per byte included, window by window.
  int bits_rows = 0;
  for (const auto& d : demo.at("against_lolcats")) {
    if (d.at("metric") != "bits_per_byte") continue;
    ++bits_rows;
    EXPECT_GE(d.at("n").get<int64_t>(), 1);  // windows of the short test text
    EXPECT_TRUE(d.at("mcnemar_p").is_null());
    EXPECT_LE(d.at("low").get<double>(), d.at("difference").get<double>());
  }
  EXPECT_EQ(bits_rows, 3);  // hedgecats, ssd, linear
  EXPECT_NE(markdown.find("| bits per byte | hedgecats - lolcats | "), std::string::npos) << markdown;
  const std::string linear_recipe = test::read_bytes(out + "/linear/recipe.yaml");
  EXPECT_NE(linear_recipe.find("mode: linear"), std::string::npos) << linear_recipe;
  EXPECT_EQ(linear_recipe.find("train_mode"), std::string::npos) << linear_recipe;
  EXPECT_NE(test::read_bytes(out + "/ssd/recipe.yaml").find("enabled: true"), std::string::npos);
}

// A report's JSON without its times and with the run's output directory named OUT.
std::string comparable(nlohmann::json report, const std::string& out_dir) {
  const std::function<void(nlohmann::json&)> drop_times = [&](nlohmann::json& j) {
    if (j.is_object()) {
      j.erase("seconds");
      j.erase("total_seconds");
    }
    if (j.is_structured()) {
      for (auto& child : j) drop_times(child);
    }
  };
  drop_times(report);
  std::string text = report.dump(1);
  for (size_t at = text.find(out_dir); at != std::string::npos; at = text.find(out_dir, at)) text.replace(at, out_dir.size(), "OUT");
  return text;
}

// Two jobs (a diagnosis beside the next conversion, in two threads) give what one job gives in
// turns: the same converted weights and the same reports, byte for byte.
TEST(Demo, TwoJobsGiveWhatOneJobGives) {
  test::TempDir dir;
  ::setenv("LINCAT_THREADS", "1", 1);
  const std::string teacher = test::write_tiny_teacher(dir.file("teacher"));
  test::write_bytes(dir.file("text.txt"), test::tiny_text(1200));
  const auto one = run_lincat(demo_flags(dir, teacher, "one") + " --jobs 1 --recipes lolcats,linear --seeds 2");
  ASSERT_EQ(one.exit_code, 0) << one.err << one.out;
  const auto two = run_lincat(demo_flags(dir, teacher, "two") + " --jobs 2 --recipes lolcats,linear --seeds 2");
  ASSERT_EQ(two.exit_code, 0) << two.err << two.out;
  EXPECT_NE(one.out.find("1 job at once"), std::string::npos) << one.out;
  EXPECT_NE(two.out.find("2 jobs at once"), std::string::npos) << two.out;
  // Progress lines name their recipe: two recipes' lines interleave.
  EXPECT_NE(two.err.find("lolcats seed 1 next_sentence@hybrid: "), std::string::npos) << two.err;
  EXPECT_NE(two.err.find("teacher associative_recall@base: "), std::string::npos) << two.err;

  const std::string a = dir.file("one"), b = dir.file("two");
  EXPECT_EQ(comparable(read_json(a + "/demo_report.json"), a), comparable(read_json(b + "/demo_report.json"), b));
  for (const char* run : {"lolcats", "lolcats.seed2", "linear", "linear.seed2"}) {
    const std::string x = a + "/" + run, y = b + "/" + run;
    EXPECT_EQ(test::read_bytes(x + "/model.safetensors"), test::read_bytes(y + "/model.safetensors")) << run;
    EXPECT_EQ(comparable(read_json(x + "/diagnose/report.json"), a), comparable(read_json(y + "/diagnose/report.json"), b))
        << run;
  }
}

TEST(Demo, BadTeacherPathFailsNamingIt) {
  test::TempDir dir;
  test::write_bytes(dir.file("text.txt"), test::tiny_text(50));
  const std::string missing = dir.file("no-such-teacher");
  const auto run = run_lincat(demo_flags(dir, missing));
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_EQ(run.err.rfind("error: --teacher " + missing + ": no such directory", 0), 0u) << run.err;
  EXPECT_FALSE(fs::exists(dir.file("out")));

  fs::create_directories(dir.file("empty-teacher"));
  const auto empty = run_lincat(demo_flags(dir, dir.file("empty-teacher")));
  EXPECT_EQ(empty.exit_code, 2) << empty.err;
  EXPECT_NE(empty.err.find("--teacher " + dir.file("empty-teacher") + "/config.json"), std::string::npos) << empty.err;
}

TEST(Demo, MissingRecipeFileFailsNamingTheFlag) {
  test::TempDir dir;
  test::write_bytes(dir.file("text.txt"), test::tiny_text(50));
  const std::string teacher = test::write_tiny_teacher(dir.file("teacher"));
  const auto run = run_lincat(demo_flags(dir, teacher) + " --recipes lolcats,nosuch");
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_NE(run.err.find("--recipes-dir " + kRecipes + "/nosuch.yaml: no such file"), std::string::npos) << run.err;
  const auto no_seeds = run_lincat(demo_flags(dir, teacher) + " --seeds 0");
  EXPECT_EQ(no_seeds.exit_code, 2) << no_seeds.err;
  EXPECT_NE(no_seeds.err.find("--seeds"), std::string::npos) << no_seeds.err;
  EXPECT_NE(no_seeds.err.find("must be >= 1"), std::string::npos) << no_seeds.err;
}

}  // namespace
}  // namespace lincat::demo
