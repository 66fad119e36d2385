// Models with random weights, for tests and benchmarks (no pretrained weights can be downloaded
// here). Weights are scaled so that activations stay O(1) and attention is far from uniform.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "lincat/model/model_config.h"

namespace lincat {

// A Llama config of about `parameters` parameters with the proportions of small Llamas
// (head dim 64, 4 query heads per key/value head, intermediate ~ 2.7 x hidden, vocab 32000).
ModelConfig llama_config_of_size(int64_t parameters);

// The config.json of a published model by name: llama-3.2-1b (1.24B parameters, tied embedding),
// llama-3-8b (8.03B), mistral-7b (7.24B, v0.1: 4096-token sliding window). Shapes, RoPE and
// special-token ids as published; UserError listing the names for any other.
ModelConfig named_model_config(const std::string& shape);
const std::vector<std::string>& named_model_shapes();

struct RandomModelOptions {
  at::ScalarType dtype = at::kFloat;       // written as this dtype (config.json's torch_dtype)
  uint64_t max_shard_bytes = 5ull << 30;   // above it: sharded like Hugging Face, with an index
};

// Writes config.json and the safetensors for `config` into `directory` (created if needed), one
// shard at a time, so that a checkpoint larger than memory can be written.
void write_random_model(const std::string& directory, const ModelConfig& config, uint64_t seed,
                        const RandomModelOptions& options = {});

}  // namespace lincat
