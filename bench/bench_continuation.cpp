#include "bench/bench_continuation.h"

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "lincat/attention/feature_map.h"
#include "lincat/attention/recurrent.h"
#include "lincat/util/atomic_file.h"

namespace lincat::bench {
namespace {

using attention::HybridConfig;
using attention::HybridLayerState;
using attention::HybridLayerWeights;
using attention::Mode;

struct LayerShape {
  std::string name;
  int64_t heads, kv_heads, head_dim;
  int feature_dim, window;
};

const std::vector<LayerShape> kShapes = {
    {"fixture", 4, 2, 16, 8, 8},          // tests/data/hf-reference/llama-gqa converted with w 8, f 8
    {"random-100m", 12, 3, 64, 8, 8},     // lincat random-model --params 100000000, same conversion
    {"llama7b", 32, 32, 128, 64, 64},     // Llama-2-7B with the paper's w 64, f 64
};

// Blocks as scoring and prompting produce them: batch 1 (a context), batch 4 (four continuations).
const std::vector<std::pair<int64_t, int64_t>> kBlocks = {{1, 4}, {4, 4},  {1, 16}, {4, 16},
                                                          {1, 64}, {4, 64}, {1, 256}, {1, 1024}, {1, 4096}};

constexpr int64_t kPrefix = 37;  // tokens already in the state: past the window, an odd residue

double best_seconds(int repetitions, const std::function<void()>& run) {
  double best = 1e300;
  for (int r = 0; r < repetitions; ++r) {
    const auto start = std::chrono::steady_clock::now();
    run();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

}  // namespace

int run_continuation_benchmark(const ContinuationBenchOptions& options) {
  const at::NoGradGuard no_grad;
  nlohmann::json rows = nlohmann::json::array();
  std::printf("%-12s %6s %6s %12s %14s %8s %10s\n", "shape", "batch", "tokens", "chunked ms",
              "recurrent ms", "ratio", "chosen");
  for (const LayerShape& shape : kShapes) {
    HybridConfig config;
    config.window = shape.window;
    config.feature_dim = shape.feature_dim;
    const HybridLayerWeights weights = make_identity_weights(shape.heads, shape.head_dim, config);
    for (const auto& [batch, length] : kBlocks) {
      at::manual_seed(1);
      const int64_t total = kPrefix + length;
      const at::Tensor q = at::randn({batch, shape.heads, total, shape.head_dim});     // [B, H, n, d]
      const at::Tensor k = at::randn({batch, shape.kv_heads, total, shape.head_dim});  // [B, Hkv, n, d]
      const at::Tensor v = at::randn({batch, shape.kv_heads, total, shape.head_dim});
      HybridLayerState prefixed;
      attention::prefill(q.narrow(2, 0, kPrefix), k.narrow(2, 0, kPrefix), v.narrow(2, 0, kPrefix), weights, config,
                         Mode::Hybrid, prefixed);
      const at::Tensor bq = q.narrow(2, kPrefix, length), bk = k.narrow(2, kPrefix, length),
                       bv = v.narrow(2, kPrefix, length);
      const auto time_path = [&](bool recurrent) {
        return best_seconds(options.repetitions, [&] {
          HybridLayerState state = prefixed;  // buffers shared: cloned so that each run starts from the prefix
          for (at::Tensor* t : {&state.window_keys, &state.window_values, &state.sink_keys, &state.sink_values,
                                &state.linear_state, &state.linear_normaliser}) {
            if (t->defined()) *t = t->clone();
          }
          recurrent ? attention::detail::continue_recurrent(bq, bk, bv, weights, config, Mode::Hybrid, state)
                    : attention::continue_chunked(bq, bk, bv, weights, config, Mode::Hybrid, state);
        });
      };
      const double chunked = time_path(false), recurrent = time_path(true);
      const bool chosen = attention::recurrent_continuation_preferred(bq, bk, bv, weights, Mode::Hybrid, prefixed);
      std::printf("%-12s %6lld %6lld %12.3f %14.3f %8.2f %10s\n", shape.name.c_str(),
                  static_cast<long long>(batch), static_cast<long long>(length),
                  chunked * 1e3, recurrent * 1e3, recurrent / chunked, chosen ? "recurrent" : "chunked");
      rows.push_back({{"shape", shape.name}, {"batch", batch}, {"tokens", length},
                      {"chunked_s", chunked}, {"recurrent_s", recurrent}, {"chosen", chosen ? "recurrent" : "chunked"}});
    }
  }
  if (!options.json_path.empty()) write_file_atomically(options.json_path, rows.dump(2) + "\n");
  return 0;
}

}  // namespace lincat::bench
