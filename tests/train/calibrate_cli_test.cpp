// `lincat calibrate`: gamma-only calibration of a converted model run hybrid. On the bundled
// teacher converted without training (identity feature maps, gamma 0.1), a few hundred tokens of
// held-out prose move gamma and lower the held-out loss in hybrid mode; nothing but the mixing
// logits changes; bad inputs fail before the model loads.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "lincat/io/tensor_io.h"
#include "support/run_program.h"
#include "support/safetensors_bytes.h"
#include "support/temp_dir.h"
#include "test_paths.h"

namespace lincat::train {
namespace {

using test::run_lincat;

const std::string kTeacher = LINCAT_TEST_DATA "/../../models/teacher";
const std::string kProse = LINCAT_TEST_DATA "/../../data/heldout/perplexity.txt";

TEST(Calibrate, MovesGammaAndLowersTheHeldOutLoss) {
  ::setenv("LINCAT_THREADS", "1", 1);
  test::TempDir dir;
  const std::string converted = dir.file("converted"), out = dir.file("calibrated");
  const auto init = run_lincat("convert-init " + kTeacher + " --out " + converted +
                               " --window 32 --feature-dim 32 --default-mode linear");
  ASSERT_EQ(init.exit_code, 0) << init.err;
  const auto run = run_lincat("calibrate " + converted + " --data " + kProse + " --out " + out +
                              " --tokenizer " + kTeacher + "/tokenizer.model --tokens 512 --held-out-tokens 1024 --steps 30");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("| before |"), std::string::npos) << run.out;
  const auto record = nlohmann::json::parse(test::read_bytes(out + "/calibration.json"));
  const double before = record["before"]["held_out_loss"]["hybrid"], after = record["after"]["held_out_loss"]["hybrid"];
  EXPECT_LT(after, before - 0.01) << run.out;
  EXPECT_NEAR(record["before"]["mean_gamma"].get<double>(), 0.1, 1e-6);
  EXPECT_GT(std::abs(record["after"]["mean_gamma"].get<double>() - 0.1), 0.01) << run.out;
  EXPECT_TRUE(record["after"]["held_out_loss"].contains("overlap"));
  // Evaluated at steps 0, 10, 20, 30; the kept gamma is the one with the lowest held-out loss.
  const auto curve = record["held_out_curve"];
  ASSERT_EQ(curve.size(), 4u) << curve;
  EXPECT_EQ(curve[0][1].get<double>(), before);
  double lowest = before;
  for (const auto& point : curve) lowest = std::min(lowest, point[1].get<double>());
  EXPECT_NEAR(after, lowest, 1e-9) << curve;
  EXPECT_EQ(record["best_step"].get<int64_t>() % 10, 0);
  EXPECT_EQ(record["train_tokens"], 512);
  const auto config = nlohmann::json::parse(test::read_bytes(out + "/config.json"));
  EXPECT_EQ(config["lincat"]["default_mode"], "hybrid");
  // Only the mixing logits moved.
  const auto a = io::load_safetensors_map(converted + "/model.safetensors");
  const auto b = io::load_safetensors_map(out + "/model.safetensors");
  ASSERT_EQ(a.size(), b.size());
  int changed = 0;
  for (const auto& [name, tensor] : a) {
    const bool same = at::equal(tensor, b.at(name));
    EXPECT_EQ(same, name.find("mixing_logit") == std::string::npos) << name;
    changed += same ? 0 : 1;
  }
  EXPECT_GT(changed, 0);
}

// Trained on a repeated phrase and held out on what follows it, gamma overfits: the held-out loss
// falls, then rises again. Calibration keeps the gamma of the lowest point, not the last.
TEST(Calibrate, KeepsTheGammaWithTheLowestHeldOutLoss) {
  ::setenv("LINCAT_THREADS", "1", 1);
  test::TempDir dir;
  std::string text;
  for (int i = 0; i < 120; ++i) text += "one two three four five six seven eight ";
  text += "\n\n" + test::read_bytes(kProse).substr(0, 20000);
  test::write_bytes(dir.file("mixed.txt"), text);
  const std::string converted = dir.file("converted"), out = dir.file("calibrated");
  ASSERT_EQ(run_lincat("convert-init " + kTeacher + " --out " + converted +
                       " --window 32 --feature-dim 32 --default-mode linear").exit_code, 0);
  const auto run = run_lincat("calibrate " + converted + " --data " + dir.file("mixed.txt") + " --out " + out +
                              " --tokenizer " + kTeacher + "/tokenizer.model --tokens 512 --held-out-tokens 1024" +
                              " --steps 20 --learning-rate 1 --eval-interval 2");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto record = nlohmann::json::parse(test::read_bytes(out + "/calibration.json"));
  const auto curve = record["held_out_curve"];
  ASSERT_EQ(curve.size(), 11u) << curve;
  size_t lowest = 0;
  for (size_t i = 1; i < curve.size(); ++i) {
    if (curve[i][1].get<double>() < curve[lowest][1].get<double>()) lowest = i;
  }
  ASSERT_LT(lowest, curve.size() - 1) << "this run no longer overfits, so it tests nothing: " << curve;
  EXPECT_EQ(record["best_step"].get<int64_t>(), curve[lowest][0].get<int64_t>());
  const double after = record["after"]["held_out_loss"]["hybrid"];
  EXPECT_NEAR(after, curve[lowest][1].get<double>(), 1e-9);
  EXPECT_LT(after, curve[curve.size() - 1][1].get<double>());
  EXPECT_NE(run.out.find("kept the gamma of step " + std::to_string(record["best_step"].get<int64_t>())),
            std::string::npos) << run.out;
  const auto bad = run_lincat("calibrate " + converted + " --data " + dir.file("mixed.txt") + " --out " +
                              dir.file("bad") + " --eval-interval 0");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--eval-interval"), std::string::npos) << bad.err;
}

TEST(Calibrate, BadInputsFailBeforeTheModelLoads) {
  test::TempDir dir;
  // A missing data file is named even though the model path is bad too: data is checked first.
  const auto missing = run_lincat("calibrate " + dir.file("no-model") + " --data " + dir.file("none.txt") + " --out " +
                                  dir.file("out"));
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("--data"), std::string::npos) << missing.err;
  const auto linear = run_lincat("calibrate " + kTeacher + " --data " + kProse + " --out " + dir.file("out") +
                                 " --mode linear");
  EXPECT_EQ(linear.exit_code, 2);
  EXPECT_NE(linear.err.find("hybrid or overlap"), std::string::npos) << linear.err;
}

}  // namespace
}  // namespace lincat::train
