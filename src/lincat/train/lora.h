// LoRA adapters on a model being trained, and folding them into the base weights.
#pragma once
#include <string>
#include <vector>

#include "lincat/model/model.h"
#include "lincat/train/recipe.h"

namespace lincat::train {

// Adds adapters on settings.targets to every layer and sets model.config.lora. A is drawn as
// PEFT does (Kaiming-uniform, from torch's generator, so seed it first), B is zero: outputs start
// unchanged. Dropout is applied while gradients are recorded.
void add_lora(Model& model, const LoraSettings& settings);

// W <- W + (alpha / r) B A for every adapter, then removes the adapters and config.lora.
void merge_lora(Model& model);

}  // namespace lincat::train
