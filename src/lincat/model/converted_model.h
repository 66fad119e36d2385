// Converted models: an original checkpoint plus hybrid attention (feature maps and mixing logits
// in every layer), stored as the original config.json with a "lincat" section and safetensors
// holding the original tensors plus the new ones.
#pragma once
#include <memory>
#include <string>

#include "lincat/attention/modes.h"
#include "lincat/model/model.h"

namespace lincat {

// The untrained converted model of `original`: the same weights, identity-initialised feature
// maps and mixing factor 0.1 in every layer. Refuses a model that is already converted.
std::shared_ptr<Model> convert_init(const Model& original, const attention::HybridConfig& hybrid,
                                    attention::Mode default_mode = attention::Mode::Hybrid);

// Writes `model` as a model directory every command loads: config.json (the source directory's
// config with the "lincat" section set or removed), model.safetensors (every tensor of the
// table, in the model's dtype) and a copy of tokenizer.model when the source has one. Each file
// is written atomically.
void save_model(const Model& model, const std::string& directory);

}  // namespace lincat
