// The memory plan: its parts follow from the config and the recipe, the settings it advises make
// a phase fit, and the 8B plans the issue asks for (stage 1 on 24 GB, stage 2 on 40 GB) hold.
#include <gtest/gtest.h>

#include "lincat/model/converted_model.h"
#include "lincat/model/model_memory.h"
#include "lincat/model/random_model.h"
#include "lincat/plan/memory_plan.h"
#include "lincat/train/checkpoint.h"
#include "lincat/train/lora.h"
#include "lincat/util/error.h"
#include "lincat/util/memory.h"
#include "support/temp_dir.h"
#include "support/tiny_teacher.h"

namespace {

using lincat::plan::MemoryPlan;
using lincat::plan::PlanInputs;

constexpr uint64_t kGiB = 1ull << 30;

PlanInputs gpu_inputs(const std::string& shape, uint64_t memory) {
  PlanInputs in;
  in.model = lincat::named_model_config(shape);
  in.recipe = lincat::train::load_recipe("lolcats");
  in.cuda = true;
  in.stored_bytes = 2;
  in.compute_bytes = 2;
  in.device_memory = memory;
  return in;
}

uint64_t phase_total(const MemoryPlan& plan, const std::string& name) {
  for (const auto& phase : plan.phases) {
    if (phase.name == name) return phase.parts.total();
  }
  ADD_FAILURE() << "no phase " << name;
  return 0;
}

TEST(MemoryPlan, Llama3_8bStage1At2048TokensFitsA24GbGpu) {
  PlanInputs in = gpu_inputs("llama-3-8b", 24ull * 1000 * 1000 * 1000);
  in.recipe.data.sequence_length = 2048;
  in.recipe.data.tokens_per_step = 2048;
  in.recipe.data.micro_batch = 1;
  const MemoryPlan plan = lincat::plan::plan_memory(in);
  EXPECT_LE(phase_total(plan, "stage 1"), in.device_memory);
  EXPECT_GT(phase_total(plan, "stage 1"), lincat::parameter_bytes(in.model, 2));  // more than the weights
}

TEST(MemoryPlan, Llama3_8bStage2At1024TokensPerMicroBatchFitsA40GbGpu) {
  PlanInputs in = gpu_inputs("llama-3-8b", 40ull * 1000 * 1000 * 1000);
  in.recipe.data.sequence_length = 1024;
  in.recipe.data.tokens_per_step = 8192;
  in.recipe.data.micro_batch = 4;  // stage 1; stage 2 takes its own
  in.recipe.stage2.micro_batch_tokens = 1024;
  const MemoryPlan plan = lincat::plan::plan_memory(in);
  EXPECT_EQ(lincat::plan::micro_batch_tokens(in.recipe, 1), 4096);
  EXPECT_EQ(lincat::plan::micro_batch_tokens(in.recipe, 2), 1024);
  EXPECT_LE(phase_total(plan, "stage 2"), in.device_memory);
  EXPECT_TRUE(plan.fits()) << lincat::plan::plan_table(plan);
}

TEST(MemoryPlan, FrozenWeightsAreTheParametersInTheComputeDtype) {
  PlanInputs in = gpu_inputs("llama-3.2-1b", 80 * kGiB);
  const MemoryPlan gpu = lincat::plan::plan_memory(in);
  EXPECT_EQ(gpu.phases.front().parts.frozen_weights, uint64_t(in.model.parameter_count()) * 2);
  in.cuda = false;
  in.compute_bytes = 4;  // float32 from a bfloat16 file: the load holds the copy and the mapped file
  const MemoryPlan cpu = lincat::plan::plan_memory(in);
  EXPECT_EQ(cpu.phases.front().parts.frozen_weights, uint64_t(in.model.parameter_count()) * 4);
  EXPECT_GE(cpu.phases.front().parts.workspace, uint64_t(in.model.parameter_count()) * 2);
}

TEST(MemoryPlan, SmallerMicroBatchesAndSequencesNeedLess) {
  PlanInputs in = gpu_inputs("llama-3.2-1b", 80 * kGiB);
  in.recipe.data.micro_batch = 4;
  const uint64_t four = phase_total(lincat::plan::plan_memory(in), "stage 2");
  in.recipe.data.micro_batch = 1;
  const uint64_t one = phase_total(lincat::plan::plan_memory(in), "stage 2");
  in.recipe.data.sequence_length = 512;
  const uint64_t shorter = phase_total(lincat::plan::plan_memory(in), "stage 2");
  EXPECT_GT(four, one);
  EXPECT_GT(one, shorter);
  in.recipe.stage2.kl_weight = 1.0;  // the teacher's distributions too
  EXPECT_GT(phase_total(lincat::plan::plan_memory(in), "stage 2"), shorter);
}

TEST(MemoryPlan, Stage2MicroBatchTokensShrinkOnlyStage2) {
  PlanInputs in = gpu_inputs("llama-3.2-1b", 80 * kGiB);
  in.recipe.data.sequence_length = 1024;
  in.recipe.data.tokens_per_step = 8192;
  in.recipe.data.micro_batch = 4;
  const MemoryPlan four = lincat::plan::plan_memory(in);
  in.recipe.stage2.micro_batch_tokens = 1024;
  const MemoryPlan one = lincat::plan::plan_memory(in);
  EXPECT_EQ(phase_total(one, "stage 1"), phase_total(four, "stage 1"));
  EXPECT_LT(phase_total(one, "stage 2"), phase_total(four, "stage 2"));
  EXPECT_NE(lincat::plan::plan_table(one).find("4096 in stage 1 and 1024 in stage 2"), std::string::npos)
      << lincat::plan::plan_table(one);
}

// Applies every "--set key=value" of an advice line to `recipe`.
void apply_advice(const std::string& advice, lincat::train::Recipe& recipe) {
  for (size_t at = advice.find("--set "); at != std::string::npos; at = advice.find("--set ", at + 1)) {
    const size_t begin = at + 6;
    lincat::train::apply_override(recipe, advice.substr(begin, advice.find(' ', begin) - begin));
  }
}

TEST(MemoryPlan, AdviceNamesSettingsThatMakeThePhaseFit) {
  for (const uint64_t gib : {24, 19}) {
    PlanInputs in = gpu_inputs("llama-3-8b", gib * kGiB);
    in.recipe.data.sequence_length = 4096;
    in.recipe.data.tokens_per_step = 16384;
    in.recipe.data.micro_batch = 4;
    const MemoryPlan plan = lincat::plan::plan_memory(in);
    ASSERT_FALSE(plan.fits());
    std::string stage2;
    for (const std::string& advice : plan.advice) {
      if (advice.rfind("stage 2:", 0) == 0) stage2 = advice;
    }
    ASSERT_NE(stage2.find("--set stage2.micro_batch_tokens="), std::string::npos) << stage2;
    apply_advice(stage2, in.recipe);
    EXPECT_EQ(lincat::train::micro_batch_sequences(in.recipe, 2), 1) << stage2;  // one sequence, at any length
    EXPECT_EQ(in.recipe.stage2.micro_batch_tokens, in.recipe.data.sequence_length) << stage2;
    EXPECT_LE(phase_total(lincat::plan::plan_memory(in), "stage 2"), in.device_memory) << stage2;
    if (gib == 19) {  // checkpointing alone is not enough here: shorter sequences, the longest that fits
      ASSERT_NE(stage2.find("data.sequence_length="), std::string::npos) << stage2;
      in.recipe.data.sequence_length *= 2;
      EXPECT_GT(phase_total(lincat::plan::plan_memory(in), "stage 2"), in.device_memory) << stage2;
    } else {
      EXPECT_NE(stage2.find("stage2.gradient_checkpointing=true"), std::string::npos) << stage2;
    }
  }
}

TEST(MemoryPlan, CheckpointingAndLossChunksNeedLess) {
  PlanInputs in = gpu_inputs("llama-3-8b", 80 * kGiB);
  in.recipe.data.sequence_length = 2048;
  in.recipe.stage2.loss_chunk_tokens = 0;
  const uint64_t plain = phase_total(lincat::plan::plan_memory(in), "stage 2");
  in.recipe.stage2.loss_chunk_tokens = 256;
  const uint64_t chunked = phase_total(lincat::plan::plan_memory(in), "stage 2");
  in.recipe.stage2.gradient_checkpointing = true;
  const uint64_t both = phase_total(lincat::plan::plan_memory(in), "stage 2");
  EXPECT_GT(plain, chunked);
  EXPECT_GT(chunked, both);
}

TEST(MemoryPlan, WeightsLargerThanTheDeviceAreSaidPlainly) {
  PlanInputs in = gpu_inputs("llama-3-8b", 8 * kGiB);
  const MemoryPlan plan = lincat::plan::plan_memory(in);
  ASSERT_FALSE(plan.advice.empty());
  EXPECT_NE(plan.advice.front().find("the weights alone need"), std::string::npos) << plan.advice.front();
}

TEST(MemoryPlan, SkippedStagesDoNotCountTowardsThePeak) {
  PlanInputs in = gpu_inputs("llama-3.2-1b", 80 * kGiB);
  in.recipe.stage2.token_budget = 0;
  in.recipe.stage2.steps = 0;
  const MemoryPlan plan = lincat::plan::plan_memory(in);
  EXPECT_LT(plan.peak(), phase_total(plan, "stage 2"));
}

// The trainable element counts equal the tensors the conversion really trains.
TEST(MemoryPlan, TrainableElementsMatchTheConvertedModel) {
  lincat::test::TempDir dir;
  const auto teacher = lincat::load_model(lincat::test::write_tiny_teacher(dir.file("teacher")));
  lincat::train::Recipe recipe = lincat::train::load_recipe("lolcats");
  recipe.attention.feature_dim = 4;
  recipe.stage2.lora.targets = {"q_proj", "k_proj", "down_proj"};
  const auto student = lincat::convert_init(*teacher, recipe.attention, recipe.default_mode);
  int64_t hybrid = 0;
  for (const auto& p : lincat::train::trainable_tensors(*student)) hybrid += p.tensor.numel();
  EXPECT_EQ(uint64_t(hybrid), lincat::plan::stage1_trainable_elements(teacher->config, recipe));
  lincat::train::add_lora(*student, recipe.stage2.lora);
  int64_t all = 0;
  for (const auto& p : lincat::train::trainable_tensors(*student)) all += p.tensor.numel();
  EXPECT_EQ(uint64_t(all - hybrid), lincat::plan::stage2_trainable_elements(teacher->config, recipe));
}

TEST(ByteSize, ParsesDecimalAndBinaryUnits) {
  EXPECT_EQ(lincat::parse_byte_size("5GB", "--x"), 5'000'000'000ull);
  EXPECT_EQ(lincat::parse_byte_size("24GiB", "--x"), 24 * kGiB);
  EXPECT_EQ(lincat::parse_byte_size("512mib", "--x"), 512ull << 20);
  EXPECT_EQ(lincat::parse_byte_size("4096", "--x"), 4096u);
  EXPECT_EQ(lincat::parse_byte_size("1.5KB", "--x"), 1500u);
  for (const char* bad : {"", "GB", "5 apples", "0", "-3GB", "nan", "1e30TB"}) {
    try {
      lincat::parse_byte_size(bad, "--memory");
      ADD_FAILURE() << bad;
    } catch (const lincat::UserError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("--memory '", 0), 0u) << e.what();
    }
  }
}

}  // namespace
