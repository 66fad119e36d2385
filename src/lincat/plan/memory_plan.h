// How much memory each phase of a conversion needs, from config.json and the recipe alone (no
// weight is read): the numbers `lincat plan` prints and `lincat convert` checks before it
// allocates anything. A pure function of its inputs, so that it is unit-tested.
//
// Every part is an estimate of the bytes that phase holds at its peak, counted from the tensors
// lincat's code creates (see memory_plan.cpp for each term); docs/SCALING.md compares it with
// measured peaks.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lincat/model/model_config.h"
#include "lincat/train/recipe.h"

namespace lincat::plan {

// The parts of one phase's peak memory, in bytes.
struct MemoryParts {
  uint64_t frozen_weights = 0;  // the pretrained weights (teacher and student share them)
  uint64_t trainable = 0;       // feature maps, mixing logits, LoRA: float32 masters and gradients
  uint64_t optimizer = 0;       // AdamW's two float32 moments per trainable element
  uint64_t activations = 0;     // what the forward keeps for the loss and backward
  uint64_t logits_loss = 0;     // [tokens x vocabulary] logits, log-probabilities and their gradient
  uint64_t workspace = 0;       // the runtime (libraries, CUDA context) and allocator slack
  uint64_t total() const;
};

struct PhasePlan {
  std::string name;  // "load", "stage 1", "stage 2", "eval", "merge" (also convert's final write)
  bool runs = true;  // false: the recipe skips it (0 steps); shown, not counted in the peak
  MemoryParts parts;
};

struct PlanInputs {
  ModelConfig model;            // config.json: shapes, torch_dtype
  train::Recipe recipe;         // overrides applied
  bool cuda = false;            // the device: a CUDA GPU, else the CPU (process resident memory)
  uint64_t stored_bytes = 2;    // bytes per element in the checkpoint (2: bfloat16/float16)
  uint64_t compute_bytes = 4;   // bytes per element the frozen weights are computed in
  uint64_t device_memory = 0;   // what the device has
};

struct MemoryPlan {
  PlanInputs inputs;
  std::vector<PhasePlan> phases;
  std::vector<std::string> advice;  // settings that make the phases that do not fit fit; empty if all fit
  uint64_t peak() const;            // the largest total of a phase that runs
  bool fits() const { return peak() <= inputs.device_memory; }
};

// Tokens of one forward pass in `stage` (1 or 2): train::micro_batch_sequences x data.sequence_length.
int64_t micro_batch_tokens(const train::Recipe& recipe, int stage);

// Elements the conversion trains in stage 1 (feature maps, mixing logits) and stage 2 (LoRA, and
// the feature maps when stage2.train_feature_maps).
uint64_t stage1_trainable_elements(const ModelConfig& model, const train::Recipe& recipe);
uint64_t stage2_trainable_elements(const ModelConfig& model, const train::Recipe& recipe);

// The plan, with advice for the phases whose total exceeds inputs.device_memory.
MemoryPlan plan_memory(const PlanInputs& inputs);

// Bytes per element of a config.json torch_dtype ("bfloat16" -> 2); 4 for float32 or unknown.
uint64_t dtype_bytes(const std::string& torch_dtype);

// The plan for converting the model in `directory` (only its config.json is read) with `recipe`
// on `device` ("cpu", "cuda[:N]") computing in `dtype` ("auto": the checkpoint's on CUDA, float32
// on the CPU; or float32, bfloat16, float16), against `memory` bytes (0: what the device has).
// UserError naming the file, or SettingError naming `device` / `dtype`, for bad input.
MemoryPlan plan_conversion(const std::string& directory, const train::Recipe& recipe, const std::string& device,
                           const std::string& dtype, uint64_t memory);

// The table `lincat plan` prints, and its JSON (`--json`).
std::string plan_table(const MemoryPlan& plan);
nlohmann::json plan_json(const MemoryPlan& plan);

}  // namespace lincat::plan
