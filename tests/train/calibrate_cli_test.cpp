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
