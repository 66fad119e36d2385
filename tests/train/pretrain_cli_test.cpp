// `lincat pretrain` end to end on a tiny config: a tokenizer is trained when none is given, the
// held-out loss drops well below chance, the output is a model every command loads, a stopped
// and resumed run ends bitwise identical, and bad settings fail with the key named.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "lincat/io/tensor_io.h"
#include "lincat/model/model.h"
#include "support/run_program.h"
#include "support/safetensors_bytes.h"
#include "support/temp_dir.h"
#include "test_paths.h"

namespace lincat::train {
namespace {

namespace fs = std::filesystem;
using test::run_lincat;

const std::string kText = "/usr/share/common-licenses/GPL-3";
const std::string kConfig = LINCAT_TEST_DATA "/pretrain/tiny.yaml";

std::vector<nlohmann::json> log_of(const std::string& dir) {
  std::ifstream in(dir + "/train_log.jsonl");
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

std::string pretrain(const std::string& out, const std::string& cache, const std::string& extra) {
  return "pretrain --data " + kText + " --out " + out + " --config " + kConfig + " --set data.cache_dir=" + cache +
         " " + extra;
}

TEST(TrainPretrain, TrainsATokenizerAndAModelWhoseHeldOutLossDrops) {
  ::setenv("LINCAT_THREADS", "1", 1);
  test::TempDir dir;
  const std::string out = dir.file("model");
  const auto run = run_lincat(pretrain(out, dir.file("cache"), "--set probes.items=2 --set 'probes.distances=[16, 48]'"));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("tokenizer: trained bpe with 300 pieces"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("probe accuracy (softmax"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("synthetic added"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("perplexity"), std::string::npos) << run.out;
  for (const char* file : {"config.json", "model.safetensors", "tokenizer.model", "pretrain.yaml", "train_log.jsonl"}) {
    EXPECT_TRUE(fs::exists(out + "/" + file)) << file;
  }
  EXPECT_FALSE(fs::exists(out + "/checkpoint.safetensors"));

  std::vector<double> evals;
  for (const auto& line : log_of(out)) {
    if (!line.contains("eval_loss")) continue;
    evals.push_back(line["eval_loss"].get<double>());
    // The probe monitor rides along with every evaluation: a mean and one number per distance.
    for (const char* key : {"passkey_accuracy", "passkey_accuracy_d16", "recall_accuracy_d48"}) {
      ASSERT_TRUE(line.contains(key)) << key << " in " << line.dump();
      EXPECT_GE(line[key].get<double>(), 0.0);
      EXPECT_LE(line[key].get<double>(), 1.0);
    }
  }
  ASSERT_EQ(evals.size(), 4u);  // every 10 of 40 steps
  const double chance = std::log(300.0);
  EXPECT_LT(evals.back(), evals.front() - 0.4);  // 5.26 -> 4.65 when written
  EXPECT_LT(evals.back(), chance - 0.8) << "held-out loss " << evals.back() << " vs chance " << chance;

  const auto model = load_model(out);
  EXPECT_EQ(model->config.vocab_size, 300);
  EXPECT_EQ(model->config.num_layers, 2);
  EXPECT_EQ(model->config.bos_token_id.value_or(-1), 1);
  EXPECT_EQ(model->config.eos_token_ids, (std::vector<int64_t>{2}));
  const auto config = nlohmann::json::parse(test::read_bytes(out + "/config.json"));
  EXPECT_EQ(config["architectures"][0], "LlamaForCausalLM");
  EXPECT_EQ(config["torch_dtype"], "float32");
  EXPECT_EQ(run_lincat("info " + out).exit_code, 0);
  const auto generated = run_lincat("generate " + out + " --prompt 'This License' --max-new-tokens 8");
  EXPECT_EQ(generated.exit_code, 0) << generated.err;
}

TEST(TrainPretrain, StoppedAndResumedRunEndsBitwiseIdentical) {
  ::setenv("LINCAT_THREADS", "1", 1);  // bitwise comparisons need the same thread count
  test::TempDir dir;
  const std::string flags = "--tokenizer " LINCAT_TEST_DATA "/tokenizer/tiny.model --set steps=12";
  const std::string cache = dir.file("cache"), whole = dir.file("whole"), resumed = dir.file("resumed");
  const auto reference = run_lincat(pretrain(whole, cache, flags));
  ASSERT_EQ(reference.exit_code, 0) << reference.err;

  const auto part1 = run_lincat(pretrain(resumed, cache, flags + " --stop-after-steps 5"));
  ASSERT_EQ(part1.exit_code, 130) << part1.err;
  EXPECT_NE(part1.err.find("--resume"), std::string::npos) << part1.err;
  const auto refused = run_lincat(pretrain(resumed, cache, flags));
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("--resume"), std::string::npos) << refused.err;
  const auto changed = run_lincat(pretrain(resumed, cache, flags + " --set optimiser.learning_rate=0.001 --resume"));
  EXPECT_EQ(changed.exit_code, 2);
  EXPECT_NE(changed.err.find("differ from the interrupted run"), std::string::npos) << changed.err;
  const auto part2 = run_lincat(pretrain(resumed, cache, flags + " --resume --stop-after-steps 4"));
  ASSERT_EQ(part2.exit_code, 130) << part2.err;
  const auto part3 = run_lincat(pretrain(resumed, cache, flags + " --resume"));
  ASSERT_EQ(part3.exit_code, 0) << part3.err;

  const auto x = io::load_safetensors_map(whole + "/model.safetensors");
  const auto y = io::load_safetensors_map(resumed + "/model.safetensors");
  ASSERT_EQ(x.size(), y.size());
  for (const auto& [name, tensor] : x) {
    ASSERT_TRUE(y.count(name)) << name;
    EXPECT_TRUE(at::equal(tensor, y.at(name))) << name << " differs";
  }
  auto a = log_of(whole), b = log_of(resumed);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    a[i].erase("seconds");
    b[i].erase("seconds");
    EXPECT_EQ(a[i], b[i]) << "log line " << i;
  }
}

TEST(TrainPretrain, KeepBestFalseWritesTheLastWeightsInsteadOfTheBestEvaluated) {
  ::setenv("LINCAT_THREADS", "1", 1);
  test::TempDir dir;
  const std::string cache = dir.file("cache");
  // A learning rate far too high for steps 4-6 makes the evaluation at step 3 the best one.
  const std::string flags = "--tokenizer " LINCAT_TEST_DATA "/tokenizer/tiny.model --set steps=6 "
                            "--set optimiser.learning_rate=0.3 --set optimiser.schedule=constant ";
  const std::string best = dir.file("best"), last = dir.file("last"), reference = dir.file("reference");
  ASSERT_EQ(run_lincat(pretrain(best, cache, flags + "--set eval_interval=3")).exit_code, 0);
  ASSERT_EQ(run_lincat(pretrain(last, cache, flags + "--set eval_interval=3 --set keep_best=false")).exit_code, 0);
  // Evaluated only at the end, the best weights are the last ones.
  ASSERT_EQ(run_lincat(pretrain(reference, cache, flags + "--set eval_interval=6")).exit_code, 0);
  std::vector<double> evals;
  for (const auto& line : log_of(best)) {
    if (line.contains("eval_loss")) evals.push_back(line["eval_loss"].get<double>());
  }
  ASSERT_EQ(evals.size(), 2u);
  ASSERT_LT(evals[0], evals[1]) << "the premise: step 3 evaluates better than step 6";
  const auto x = io::load_safetensors_map(best + "/model.safetensors");
  const auto y = io::load_safetensors_map(last + "/model.safetensors");
  const auto z = io::load_safetensors_map(reference + "/model.safetensors");
  EXPECT_FALSE(at::equal(x.at("model.embed_tokens.weight"), y.at("model.embed_tokens.weight")));  // step 3 against 6
  for (const auto& [name, tensor] : y) EXPECT_TRUE(at::equal(tensor, z.at(name))) << name;
}

TEST(TrainPretrain, InitStartsFromAnotherModelsWeightsAndRefusesAnotherShape) {
  ::setenv("LINCAT_THREADS", "1", 1);
  test::TempDir dir;
  const std::string cache = dir.file("cache"), first = dir.file("first"), second = dir.file("second");
  const std::string flags = "--tokenizer " LINCAT_TEST_DATA "/tokenizer/tiny.model --set steps=4";
  ASSERT_EQ(run_lincat(pretrain(first, cache, flags)).exit_code, 0);
  // A learning rate of 1e-30 moves no float32 weight (far below one ulp): the output is `first` exactly.
  const auto continued = run_lincat(pretrain(second, cache, "--init " + first +
                                             " --set steps=2 --set optimiser.learning_rate=1e-30 --set optimiser.min_learning_rate=1e-30"));
  ASSERT_EQ(continued.exit_code, 0) << continued.err;
  EXPECT_EQ(test::read_bytes(second + "/tokenizer.model"), test::read_bytes(first + "/tokenizer.model"));
  const auto x = io::load_safetensors_map(first + "/model.safetensors");
  const auto y = io::load_safetensors_map(second + "/model.safetensors");
  ASSERT_EQ(x.size(), y.size());
  for (const auto& [name, tensor] : x) EXPECT_TRUE(at::equal(tensor, y.at(name))) << name;

  // An interrupted run's --out: the weights of its checkpoint, bitwise (learning rate 1e-30 again).
  const std::string stopped = dir.file("stopped"), from_stopped = dir.file("from_stopped");
  ASSERT_EQ(run_lincat(pretrain(stopped, cache, flags + " --stop-after-steps 2")).exit_code, 130);
  ASSERT_FALSE(fs::exists(stopped + "/model.safetensors"));
  const auto resumed_phase = run_lincat(pretrain(from_stopped, cache, "--init " + stopped +
                                                 " --set steps=2 --set optimiser.learning_rate=1e-30 --set optimiser.min_learning_rate=1e-30"));
  ASSERT_EQ(resumed_phase.exit_code, 0) << resumed_phase.err;
  const auto checkpoint = io::load_safetensors_map(stopped + "/checkpoint.safetensors");
  const auto z = io::load_safetensors_map(from_stopped + "/model.safetensors");
  for (const auto& [name, tensor] : z) EXPECT_TRUE(at::equal(tensor, checkpoint.at("model." + name))) << name;
  EXPECT_FALSE(at::equal(z.at("model.norm.weight"), y.at("model.norm.weight")));  // 2 steps, not 4

  const auto wider = run_lincat(pretrain(dir.file("third"), cache, "--init " + first + " --set model.hidden_size=48"));
  EXPECT_EQ(wider.exit_code, 2);
  EXPECT_NE(wider.err.find("--init " + first + ": tensor model.embed_tokens.weight has shape"), std::string::npos)
      << wider.err;
}

TEST(TrainPretrain, BadSettingsAndDataFailWithClearErrors) {
  test::TempDir dir;
  const std::string cache = dir.file("cache");
  const auto unknown = run_lincat(pretrain(dir.file("a"), cache, "--set model.depth=3"));
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown setting 'model.depth'"), std::string::npos) << unknown.err;
  const auto heads = run_lincat(pretrain(dir.file("b"), cache, "--set model.num_kv_heads=3"));
  EXPECT_EQ(heads.exit_code, 2);
  EXPECT_NE(heads.err.find("model.num_kv_heads"), std::string::npos) << heads.err;
  const auto missing = run_lincat("pretrain --data " + dir.file("none.txt") + " --out " + dir.file("c") +
                                  " --config " + kConfig);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("none.txt"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace lincat::train
