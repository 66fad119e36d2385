// `lincat bench continuation`: a decode state continued by a block of T tokens, by the chunked
// form (continue_chunked) and by the fused recurrent kernel token after token
// (continue_recurrent), at the layer shapes of the fixture, the 100M random model and Llama-7B.
// It is why continue_state takes the kernel wherever it runs; the table says which path it takes.
#pragma once
#include <string>

namespace lincat::bench {

struct ContinuationBenchOptions {
  int repetitions = 5;    // timed runs per measurement; the fastest is reported
  std::string json_path;  // also write the results here (atomically) when set
};

int run_continuation_benchmark(const ContinuationBenchOptions& options);

}  // namespace lincat::bench
