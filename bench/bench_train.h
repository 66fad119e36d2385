// `lincat bench train`: the cost of a stage-1 step (attention transfer) and a stage-2 step (LoRA
// fine-tuning) against a teacher forward pass on the same tokens, with tokens/s and peak memory.
#pragma once
#include <string>

#include "lincat/attention/modes.h"

namespace lincat::bench {

struct TrainBenchOptions {
  std::string model;                        // a model directory; empty: a random Llama
  int64_t random_parameters = 100000000;    // size of the random Llama
  int64_t sequence_length = 1024;
  attention::HybridConfig hybrid;           // the student's attention
  int repetitions = 3;                      // best of
  std::string device = "cpu";
  std::string json_path;
};

int run_train_benchmark(const TrainBenchOptions& options);

}  // namespace lincat::bench
