// `lincat bench model`: load time, forward time and generation speed of one model.
#pragma once
#include <string>

namespace lincat::bench {

struct ModelBenchOptions {
  std::string model;              // a model directory; empty with random_parameters > 0
  int64_t random_parameters = 0;  // build a random Llama of about this size in a temp dir
  std::string dtype = "float32";
  std::string device = "cpu";
  int64_t prompt_tokens = 128;
  int64_t new_tokens = 32;
  int repetitions = 3;            // best of
  std::string json_path;          // optional JSON output
};

int run_model_benchmark(const ModelBenchOptions& options);

}  // namespace lincat::bench
