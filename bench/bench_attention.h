// `lincat bench attention`: time per token of the chunked hybrid attention against the dense
// reference, forward and forward+backward, and its achieved GFLOP/s against this machine's fp32
// matmul GFLOP/s.
#pragma once
#include <cstdint>
#include <string>

namespace lincat::bench {

struct AttentionBenchOptions {
  int64_t min_length = 512;               // n runs over min_length, 2 min_length, ... max_length
  int64_t max_length = 32768;
  int repetitions = 3;                    // timed runs per measurement; the fastest is reported
  double dense_memory_limit_gib = 9.0;    // skip the dense reference above this estimate
  double chunked_memory_limit_gib = 12.0; // skip the chunked form above this estimate
  bool small_shape_only = false;          // only the small shape (quick runs)
  std::string json_path;                  // also write the results here (atomically) when set
};

// Prints a table to stdout; returns the process exit code (0).
int run_attention_benchmark(const AttentionBenchOptions& options);

}  // namespace lincat::bench
