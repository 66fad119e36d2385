#include "bench/bench_decode.h"

#include <chrono>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "lincat/model/decoder.h"
#include "lincat/util/atomic_file.h"
#include "lincat/util/error.h"

namespace lincat::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Softmax prefill goes in pieces so that no [T x T] score matrix is built at long contexts.
constexpr int64_t kSoftmaxPrefillPiece = 1024;

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

struct Measurement {
  attention::Mode mode;
  int64_t context;
  double ms_per_token;
  int64_t state_bytes;
};

Measurement measure(const Model& model, attention::Mode mode, int64_t context, int64_t steps) {
  torch::NoGradGuard no_grad;
  const int64_t vocab = model.config.vocab_size;
  const at::Tensor prompt = torch::randint(vocab, {1, context}, torch::kInt64);  // [1, n]
  DecodeState state(model.config.num_layers, mode);
  const int64_t piece = mode == attention::Mode::Softmax ? kSoftmaxPrefillPiece : context;
  for (int64_t start = 0; start < context; start += piece) {
    forward(model, prompt.narrow(1, start, std::min(piece, context - start)), state);
  }
  const at::Tensor tokens = torch::randint(vocab, {steps + 1, 1, 1}, torch::kInt64);
  forward(model, tokens[0], state);  // warm-up step
  synchronize(model.device);
  const auto start = Clock::now();
  for (int64_t i = 1; i <= steps; ++i) forward(model, tokens[i], state);
  synchronize(model.device);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return {mode, context, seconds * 1e3 / static_cast<double>(steps), state.bytes()};
}

}  // namespace

int run_decode_benchmark(const DecodeBenchOptions& o) {
  if (o.contexts.empty()) throw UserError("--contexts: give at least one context length");
  for (int64_t n : o.contexts) {
    if (n < 1) throw UserError("--contexts: lengths must be >= 1, found " + std::to_string(n));
  }
  if (o.steps < 1) throw UserError("--steps must be >= 1");
  LoadOptions load;
  load.device = parse_device(o.device);
  load.dtype = parse_dtype(o.dtype);
  const auto model = load_model(o.model, load);

  std::vector<attention::Mode> modes;
  for (const std::string& name : o.modes) modes.push_back(attention::parse_mode(name));
  if (modes.empty()) {
    modes = model->config.hybrid ? attention::all_modes() : std::vector<attention::Mode>{attention::Mode::Softmax};
  }
  for (attention::Mode mode : modes) check_mode(*model, mode);

  std::vector<Measurement> results;
  std::cout << std::left << std::setw(10) << "mode" << std::right << std::setw(10) << "context" << std::setw(14)
            << "ms/token" << std::setw(16) << "state bytes" << std::setw(16) << "vs first ctx" << "\n";
  for (attention::Mode mode : modes) {
    double first = 0;
    for (int64_t context : o.contexts) {
      const Measurement m = measure(*model, mode, context, o.steps);
      if (first == 0) first = m.ms_per_token;
      results.push_back(m);
      std::cout << std::left << std::setw(10) << attention::mode_name(mode) << std::right << std::setw(10) << context
                << std::setw(14) << std::fixed << std::setprecision(4) << m.ms_per_token << std::setw(16)
                << m.state_bytes << std::setw(15) << std::setprecision(3) << m.ms_per_token / first << "x\n"
                << std::flush;
    }
  }
  if (!o.json_path.empty()) {
    nlohmann::json rows = nlohmann::json::array();
    for (const Measurement& m : results) {
      rows.push_back({{"mode", attention::mode_name(m.mode)},
                      {"context", m.context},
                      {"ms_per_token", m.ms_per_token},
                      {"state_bytes", m.state_bytes},
                      {"model", o.model},
                      {"device", model->device.str()},
                      {"dtype", dtype_name(model->dtype)},
                      {"threads", at::get_num_threads()}});
    }
    write_file_atomically(o.json_path, rows.dump(2) + "\n");
  }
  return 0;
}

}  // namespace lincat::bench
