// `lincat convert` and `lincat merge` end to end on a tiny teacher: every recipe runs in seconds
// and writes a model every command loads; kill-and-resume ends bitwise identical to an
// uninterrupted run; NaN stops keep the last checkpoint; bad data fails with a clear message.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "lincat/io/tensor_io.h"
#include "support/run_program.h"
#include "support/safetensors_bytes.h"
#include "support/temp_dir.h"
#include "support/tiny_teacher.h"
#include "test_paths.h"

namespace lincat::train {
namespace {

namespace fs = std::filesystem;
using test::run_lincat;

// A teacher, 1200 words of text and a token cache, shared by the tests of one process.
struct Fixture {
  test::TempDir dir;
  std::string teacher, text, cache;
  Fixture() {
    ::setenv("LINCAT_THREADS", "1", 1);  // bitwise comparisons need the same thread count
    teacher = test::write_tiny_teacher(dir.file("teacher"));
    text = dir.file("text.txt");
    test::write_bytes(text, test::tiny_text(1200));
    cache = dir.file("cache");
  }
  std::string convert(const std::string& recipe, const std::string& out, const std::string& extra = "") const {
    return "convert " + teacher + " --recipe " + recipe + " --data " + text + " --out " + out +
           test::tiny_recipe_flags(cache) + " " + extra;
  }
};

const Fixture& fixture() {
  static const Fixture* f = new Fixture();
  return *f;
}

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The file's bytes, "" while it does not exist yet.
std::string bytes_if_present(const std::string& path) {
  return fs::exists(path) ? test::read_bytes(path) : "";
}

void expect_same_tensors(const std::string& a, const std::string& b) {
  const auto x = io::load_safetensors_map(a), y = io::load_safetensors_map(b);
  ASSERT_EQ(x.size(), y.size());
  for (const auto& [name, tensor] : x) {
    ASSERT_TRUE(y.count(name)) << name;
    EXPECT_TRUE(at::equal(tensor, y.at(name))) << name << " differs";
  }
}

TEST(TrainConvert, EveryRecipeRunsEndToEndAndItsModelLoadsEverywhere) {
  const Fixture& f = fixture();
  for (const std::string recipe : {"lolcats", "hedgecats", "ssd", "linear"}) {
    const std::string out = f.dir.file("out-" + recipe);
    // f = 4 (below head_dim 8), which hedgecats' square map replaces.
    const auto run = run_lincat(f.convert(recipe, out, "--stage1-steps 3 --stage2-steps 3 --set attention.feature_dim=4"));
    ASSERT_EQ(run.exit_code, 0) << recipe << ": " << run.err;
    EXPECT_NE(run.err.find("stage 2 step 3/3"), std::string::npos) << run.err;
    for (const char* file : {"config.json", "model.safetensors", "recipe.yaml", "train_log.jsonl", "tokenizer.model"}) {
      EXPECT_TRUE(fs::exists(out + "/" + file)) << recipe << ": " << file;
    }
    EXPECT_FALSE(fs::exists(out + "/checkpoint.safetensors"));
    const std::vector<std::string> log = lines_of(out + "/train_log.jsonl");
    ASSERT_EQ(log.size(), 6u) << recipe;
    const auto first = nlohmann::json::parse(log.front()), last = nlohmann::json::parse(log.back());
    EXPECT_EQ(first["stage"], 1);
    EXPECT_EQ(last["stage"], 2);
    for (const char* key : {"loss", "learning_rate", "tokens", "seconds", "eval_loss"}) {
      EXPECT_TRUE(last.contains(key)) << recipe << ": " << key;
    }
    EXPECT_EQ(recipe == "ssd", last.contains("ssd_drop_rate")) << recipe;
    const auto forward = run_lincat("forward " + out + " --ids 1,5,9,20 --out " + f.dir.file("f.safetensors"));
    EXPECT_EQ(forward.exit_code, 0) << recipe << ": " << forward.err;
    const auto info = run_lincat("info " + out);
    EXPECT_EQ(info.exit_code, 0) << recipe << ": " << info.err;
    const auto config = nlohmann::json::parse(test::read_bytes(out + "/config.json"));
    EXPECT_EQ(config["lincat"]["default_mode"], "hybrid") << recipe;  // linear: inference-time hybridisation
    EXPECT_EQ(config["lincat"]["lora"]["rank"], 8);
    // hedgecats: a square Hedgehog map, feature_dim = head_dim; the others keep the recipe's.
    const int64_t head_dim = config["hidden_size"].get<int64_t>() / config["num_attention_heads"].get<int64_t>();
    EXPECT_EQ(config["lincat"]["feature_dim"].get<int64_t>() == head_dim, recipe == "hedgecats") << recipe;
    EXPECT_NE(run.out.find(recipe == "hedgecats" || recipe == "linear" ? "stage 1 in linear mode" : "stage 1 in hybrid mode"),
              std::string::npos) << run.out;
  }
}

TEST(TrainConvert, SecondRunReadsTheTokenCache) {
  const Fixture& f = fixture();
  test::TempDir cache;
  const std::string flags = "--stage1-steps 1 --stage2-steps 0 --set data.cache_dir=" + cache.path();
  const auto first = run_lincat(f.convert("lolcats", f.dir.file("cache-a"), flags));
  const auto second = run_lincat(f.convert("lolcats", f.dir.file("cache-b"), flags));
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(first.out.find("tokenised, cached in"), std::string::npos) << first.out;
  EXPECT_NE(second.out.find("read from cache"), std::string::npos) << second.out;
}

TEST(TrainConvert, StoppedAndResumedRunEndsBitwiseIdentical) {
  const Fixture& f = fixture();
  // SSD at head granularity with LoRA dropout and evaluation: every kind of state a step has.
  const std::string flags =
      "--stage1-steps 5 --stage2-steps 6 --set ssd.granularity=head --set stage2.lora.dropout=0.1 "
      "--set checkpoint_interval=2 --set stage1.schedule=plateau --seed 3";
  const std::string whole = f.dir.file("whole"), resumed = f.dir.file("resumed");
  const auto reference = run_lincat(f.convert("ssd", whole, flags));
  ASSERT_EQ(reference.exit_code, 0) << reference.err;

  const auto part1 = run_lincat(f.convert("ssd", resumed, flags + " --stop-after-steps 3"));
  ASSERT_EQ(part1.exit_code, 130) << part1.err;
  EXPECT_NE(part1.err.find("--resume"), std::string::npos) << part1.err;
  ASSERT_TRUE(fs::exists(resumed + "/checkpoint.safetensors"));
  const auto refused = run_lincat(f.convert("ssd", resumed, flags));
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("--resume"), std::string::npos) << refused.err;
  const auto changed = run_lincat(f.convert("ssd", resumed, flags + " --set stage2.learning_rate=0.001 --resume"));
  EXPECT_EQ(changed.exit_code, 2);
  EXPECT_NE(changed.err.find("differ from the interrupted run"), std::string::npos) << changed.err;
  const auto part2 = run_lincat(f.convert("ssd", resumed, flags + " --resume --stop-after-steps 4"));  // into stage 2
  ASSERT_EQ(part2.exit_code, 130) << part2.err;
  const auto part3 = run_lincat(f.convert("ssd", resumed, flags + " --resume"));
  ASSERT_EQ(part3.exit_code, 0) << part3.err;

  expect_same_tensors(whole + "/model.safetensors", resumed + "/model.safetensors");
  const auto a = lines_of(whole + "/train_log.jsonl"), b = lines_of(resumed + "/train_log.jsonl");
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    auto x = nlohmann::json::parse(a[i]), y = nlohmann::json::parse(b[i]);
    x.erase("seconds");
    y.erase("seconds");
    EXPECT_EQ(x, y) << "log line " << i;
  }
}

// stage2.micro_batch_tokens splits stage 2's steps into forward passes of that many tokens: the
// same losses and gradient norms per step as one pass (float32 rounding apart), stage 1 untouched.
TEST(TrainConvert, Stage2MicroBatchTokensAccumulateTheSameSteps) {
  const Fixture& f = fixture();
  // 2 sequences of 64 tokens per step; a large clip_norm logs the gradient norm without clipping.
  const std::string flags = "--stage1-steps 2 --stage2-steps 3 --set stage2.clip_norm=1000 --set stage2.kl_weight=0.5";
  const std::string whole = f.dir.file("mb-whole"), split = f.dir.file("mb-split");
  const auto one = run_lincat(f.convert("lolcats", whole, flags + " --set stage2.micro_batch_tokens=128"));
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_NE(one.out.find("stage 1 takes 1, stage 2 2"), std::string::npos) << one.out;
  const auto two = run_lincat(f.convert("lolcats", split, flags + " --set stage2.micro_batch_tokens=64"));
  ASSERT_EQ(two.exit_code, 0) << two.err;
  EXPECT_NE(two.out.find("stage 1 takes 1, stage 2 1"), std::string::npos) << two.out;
  const auto a = lines_of(whole + "/train_log.jsonl"), b = lines_of(split + "/train_log.jsonl");
  ASSERT_EQ(a.size(), b.size());
  int stage2_lines = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto x = nlohmann::json::parse(a[i]), y = nlohmann::json::parse(b[i]);
    if (x.value("stage", 0) != 2 || !x.contains("grad_norm")) continue;
    ++stage2_lines;
    for (const char* field : {"loss", "cross_entropy", "kl", "grad_norm"}) {
      const double u = x.at(field).get<double>(), v = y.at(field).get<double>();
      EXPECT_NEAR(u, v, 1e-5 * std::abs(u)) << field << ", log line " << i;
    }
  }
  EXPECT_EQ(stage2_lines, 3);
  const auto bad = run_lincat(f.convert("lolcats", f.dir.file("mb-bad"), flags + " --set stage2.micro_batch_tokens=100"));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("stage2.micro_batch_tokens must be a multiple of data.sequence_length (64)"), std::string::npos)
      << bad.err;
}

TEST(TrainConvert, SigintWritesACheckpointToResumeFrom) {
  const Fixture& f = fixture();
  const std::string out = f.dir.file("sigint"), err = f.dir.file("sigint.err");
  const std::string command = std::string("exec ") + LINCAT_BINARY + " " +
                              f.convert("lolcats", out, "--stage1-steps 100000 --stage2-steps 0") + " 2>" + err +
                              " >/dev/null";
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (bytes_if_present(err).find("step 1/") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(child, SIGINT);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << test::read_bytes(err);
  EXPECT_EQ(WEXITSTATUS(status), 130) << test::read_bytes(err);
  EXPECT_NE(test::read_bytes(err).find("continue with --resume"), std::string::npos);
  ASSERT_TRUE(fs::exists(out + "/checkpoint.safetensors"));
  const auto saved = lines_of(out + "/train_log.jsonl");
  ASSERT_FALSE(saved.empty());
  const auto resumed = run_lincat(f.convert("lolcats", out, "--stage1-steps 100000 --stage2-steps 0 --resume --stop-after-steps 1"));
  EXPECT_EQ(resumed.exit_code, 130) << resumed.err;
  const auto log = lines_of(out + "/train_log.jsonl");
  ASSERT_EQ(log.size(), saved.size() + 1);
  EXPECT_EQ(nlohmann::json::parse(log.back())["step"], nlohmann::json::parse(saved.back())["step"].get<int64_t>() + 1);
}

TEST(TrainConvert, AlpacaDataWithKlToTheTeacher) {
  const Fixture& f = fixture();
  std::string records;
  for (int i = 0; i < 60; ++i) {
    const nlohmann::json record = {{"instruction", test::tiny_text(6, i)}, {"input", ""},
                                   {"output", test::tiny_text(12, 100 + i)}};
    records += record.dump() + "\n";
  }
  test::write_bytes(f.dir.file("alpaca.jsonl"), records);
  const std::string out = f.dir.file("alpaca-out");
  const auto run = run_lincat("convert " + f.teacher + " --recipe lolcats --data " + f.dir.file("alpaca.jsonl") +
                              " --out " + out + test::tiny_recipe_flags(f.cache) +
                              " --stage1-steps 1 --stage2-steps 2 --set stage2.kl_weight=0.5");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto last = nlohmann::json::parse(lines_of(out + "/train_log.jsonl").back());
  ASSERT_TRUE(last.contains("kl"));
  EXPECT_GT(last["kl"].get<double>(), 0);
  EXPECT_NEAR(last["loss"].get<double>(), last["cross_entropy"].get<double>() + 0.5 * last["kl"].get<double>(), 1e-4);
}

TEST(TrainConvert, SsdWindowScheduleShrinksTheWindowByPhase) {
  const Fixture& f = fixture();
  const std::string out = f.dir.file("ssd-window");
  const auto run = run_lincat(f.convert("ssd", out,
                                        "--stage1-steps 0 --stage2-steps 4 --set ssd.window_schedule=[16,8] "
                                        "--set ssd.drop_schedule=[1.0,0.0] --set ssd.granularity=step"));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::vector<int64_t> windows;
  std::vector<double> drops;
  for (const std::string& line : lines_of(out + "/train_log.jsonl")) {
    const auto entry = nlohmann::json::parse(line);
    windows.push_back(entry["window"].get<int64_t>());
    drops.push_back(entry["ssd_drop_rate"].get<double>());
  }
  EXPECT_EQ(windows, (std::vector<int64_t>{16, 16, 8, 8}));
  EXPECT_EQ(drops, (std::vector<double>{1, 1, 0, 0}));
}

TEST(TrainConvert, NonFiniteLossStopsAndKeepsTheLastCheckpoint) {
  const Fixture& f = fixture();
  const std::string out = f.dir.file("nan");
  const auto run = run_lincat(f.convert("lolcats", out,
                                        "--stage1-steps 2 --stage2-steps 6 --set checkpoint_interval=1 "
                                        "--set stage2.learning_rate=1e30 --set stage2.clip_norm=0"));
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_NE(run.err.find("stage 2 step"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("checkpoint is kept"), std::string::npos) << run.err;
  EXPECT_TRUE(fs::exists(out + "/checkpoint.safetensors"));
}

TEST(TrainConvert, BadDataAndFlagsFailWithClearErrors) {
  const Fixture& f = fixture();
  test::write_bytes(f.dir.file("empty.txt"), "");
  const std::string base = "convert " + f.teacher + " --recipe lolcats --out " + f.dir.file("bad") +
                           test::tiny_recipe_flags(f.cache);
  const auto empty = run_lincat(base + " --data " + f.dir.file("empty.txt"));
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_NE(empty.err.find("empty.txt: empty data file"), std::string::npos) << empty.err;
  test::write_bytes(f.dir.file("short.txt"), "the program");
  const auto short_text = run_lincat(base + " --data " + f.dir.file("short.txt"));
  EXPECT_EQ(short_text.exit_code, 2);
  EXPECT_NE(short_text.err.find("too few for one sequence of 64"), std::string::npos) << short_text.err;
  const auto unknown = run_lincat(base + " --data " + f.text + " --set stage1.step=3");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown setting 'stage1.step'"), std::string::npos) << unknown.err;
}

TEST(TrainConvert, MergeFoldsTheAdaptersWithUnchangedOutputs) {
  const Fixture& f = fixture();
  const std::string out = f.dir.file("to-merge"), merged = f.dir.file("merged");
  ASSERT_EQ(run_lincat(f.convert("lolcats", out, "--stage1-steps 2 --stage2-steps 4 --set stage2.learning_rate=0.01")).exit_code, 0);
  const auto merge = run_lincat("merge " + out + " --out " + merged);
  ASSERT_EQ(merge.exit_code, 0) << merge.err;
  const auto config = nlohmann::json::parse(test::read_bytes(merged + "/config.json"));
  EXPECT_FALSE(config["lincat"].contains("lora"));
  for (const std::string& model : {out, merged}) {
    ASSERT_EQ(run_lincat("forward " + model + " --ids 1,5,9,20,33 --out " + model + "/logits.safetensors").exit_code, 0);
  }
  const auto a = io::load_safetensors_map(out + "/logits.safetensors").at("logits");
  const auto b = io::load_safetensors_map(merged + "/logits.safetensors").at("logits");
  EXPECT_LE((a - b).abs().max().item<double>(), 1e-4);
  const auto again = run_lincat("merge " + merged + " --out " + f.dir.file("merged2"));
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("no LoRA adapters"), std::string::npos) << again.err;
}

}  // namespace
}  // namespace lincat::train
