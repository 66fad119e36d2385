// The four recipes on the Hugging Face fixture model (tests/data/hf-reference/llama-gqa, with the
// test tokenizer passed by --tokenizer): each converted model carries the tokenizer and runs.
#include <gtest/gtest.h>

#include "support/run_program.h"
#include "support/safetensors_bytes.h"
#include "support/temp_dir.h"
#include "support/tiny_teacher.h"
#include "test_paths.h"

namespace lincat::train {
namespace {

TEST(TrainConvertSlow, EveryRecipeConvertsTheFixtureModel) {
  test::TempDir dir;
  test::write_bytes(dir.file("text.txt"), test::tiny_text(1200));
  for (const std::string recipe : {"lolcats", "hedgecats", "ssd", "linear"}) {
    const std::string out = dir.file(recipe);
    const auto run = test::run_lincat(
        "convert " LINCAT_TEST_DATA "/hf-reference/llama-gqa --tokenizer " LINCAT_TEST_DATA "/tokenizer/tiny.model"
        " --recipe " + recipe + " --data " + dir.file("text.txt") + " --out " + out +
        test::tiny_recipe_flags(dir.file("cache")) + " --stage1-steps 4 --stage2-steps 4");
    ASSERT_EQ(run.exit_code, 0) << recipe << ": " << run.err;
    EXPECT_EQ(test::read_bytes(out + "/tokenizer.model"), test::read_bytes(LINCAT_TEST_DATA "/tokenizer/tiny.model"));
    // forward, not generate: the fixture's vocabulary (512) is larger than the test tokenizer's.
    const auto logits = test::run_lincat("forward " + out + " --ids 1,5,9,400 --out " + dir.file("logits.safetensors"));
    EXPECT_EQ(logits.exit_code, 0) << recipe << ": " << logits.err;
  }
}

}  // namespace
}  // namespace lincat::train
