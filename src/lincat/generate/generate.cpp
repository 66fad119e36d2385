#include "lincat/generate/generate.h"

#include <chrono>

#include "lincat/model/decoder.h"
#include "lincat/util/error.h"
#include "lincat/util/stopwatch.h"

namespace lincat {
namespace {

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

}  // namespace

GenerationResult generate(const Model& model, const std::vector<int64_t>& prompt,
                          const GenerationOptions& options, const std::function<void(int64_t)>& on_token) {
  if (prompt.empty()) throw UserError("the prompt is empty: give at least one token");
  if (options.max_new_tokens < 0) throw SettingError("max_new_tokens", " must be >= 0");
  check_token_ids(model, prompt, "prompt");
  torch::NoGradGuard no_grad;
  Sampler sampler(options.sampling);
  DecodeState state(model.config.num_layers, options.mode.value_or(model.config.default_mode));
  check_mode(model, state.mode);
  GenerationResult result;
  const std::vector<int64_t>& eos = model.config.eos_token_ids;

  auto start = std::chrono::steady_clock::now();
  const at::Tensor prompt_ids = torch::tensor(prompt, torch::kInt64).unsqueeze(0);  // [1, T]
  at::Tensor logits = forward(model, prompt_ids, state);                           // [1, T, V]
  int64_t next = options.max_new_tokens > 0 ? sampler.next(logits[0][-1]) : -1;
  synchronize(model.device);
  result.prefill_seconds = seconds_since(start);

  start = std::chrono::steady_clock::now();
  for (int64_t step = 0; step < options.max_new_tokens; ++step) {
    result.new_ids.push_back(next);
    if (on_token) on_token(next);
    if (options.stop_at_eos && std::find(eos.begin(), eos.end(), next) != eos.end()) {
      result.stopped_at_eos = true;
      break;
    }
    if (step + 1 == options.max_new_tokens) break;
    const at::Tensor ids = torch::full({1, 1}, next, torch::kInt64);  // [1, 1]
    logits = forward(model, ids, state);                            // [1, 1, V]
    next = sampler.next(logits[0][0]);
  }
  synchronize(model.device);
  result.decode_seconds = seconds_since(start);
  result.state_bytes = state.bytes();
  return result;
}

}  // namespace lincat
