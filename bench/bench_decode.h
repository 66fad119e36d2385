// `lincat bench decode`: decode time per token and decode-state bytes against context length,
// per attention mode. Hybrid modes should be flat in both; softmax grows.
#pragma once
#include <string>
#include <vector>

namespace lincat::bench {

struct DecodeBenchOptions {
  std::string model;
  std::vector<int64_t> contexts = {512, 4096, 32768};
  std::vector<std::string> modes;  // empty: every mode the model supports
  int64_t steps = 64;              // decode steps timed after the prefill
  std::string device = "cpu";
  std::string dtype = "float32";
  std::string json_path;
};

int run_decode_benchmark(const DecodeBenchOptions& options);

}  // namespace lincat::bench
