// Models with random weights, for tests and benchmarks (no pretrained weights can be downloaded
// here). Weights are scaled so that activations stay O(1) and attention is far from uniform.
#pragma once
#include <string>

#include "lincat/model/model_config.h"

namespace lincat {

// A Llama config of about `parameters` parameters with the proportions of small Llamas
// (head dim 64, 4 query heads per key/value head, intermediate ~ 2.7 x hidden, vocab 32000).
ModelConfig llama_config_of_size(int64_t parameters);

// Writes config.json and model.safetensors for `config` into `directory` (created if needed).
void write_random_model(const std::string& directory, const ModelConfig& config, uint64_t seed);

}  // namespace lincat
