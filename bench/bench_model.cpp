#include "bench/bench_model.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "lincat/generate/generate.h"
#include "lincat/io/hf_config.h"
#include "lincat/model/decoder.h"
#include "lincat/model/random_model.h"
#include "lincat/util/atomic_file.h"
#include "lincat/util/error.h"
#include "lincat/util/stopwatch.h"

namespace lincat::bench {
namespace {

namespace fs = std::filesystem;

template <typename F>
double best_seconds(int repetitions, const torch::Device& device, F&& run) {
  double best = 1e300;
  for (int i = 0; i < repetitions; ++i) {
    const auto start = SteadyClock::now();
    run();
    if (device.is_cuda()) torch::cuda::synchronize();
    best = std::min(best, seconds_since(start));
  }
  return best;
}

}  // namespace

int run_model_benchmark(const ModelBenchOptions& o) {
  if (o.model.empty() == (o.random_parameters <= 0)) throw UserError("give either MODEL or --random-params");
  if (o.prompt_tokens < 1 || o.new_tokens < 1 || o.repetitions < 1) {
    throw UserError("--tokens, --new-tokens and --repetitions must be >= 1");
  }
  std::string directory = o.model;
  fs::path scratch;
  if (o.random_parameters > 0) {
    scratch = fs::temp_directory_path() / ("lincat-bench-" + std::to_string(::getpid()));
    directory = scratch.string();
    std::cerr << "writing a random model of about " << o.random_parameters << " parameters to " << directory << "\n";
    write_random_model(directory, llama_config_of_size(o.random_parameters), 0);
  }

  LoadOptions load;
  load.device = parse_device(o.device);
  load.dtype = parse_dtype(o.dtype);
  std::shared_ptr<const Model> model;
  const double load_seconds = best_seconds(o.repetitions, load.device, [&] { model = load_model(directory, load); });
  const ModelConfig& c = model->config;
  check_token_ids(*model, {c.vocab_size - 1}, "benchmark");

  torch::NoGradGuard no_grad;
  const at::Tensor prompt = torch::randint(c.vocab_size, {1, o.prompt_tokens}, torch::kInt64);
  const double forward_seconds = best_seconds(o.repetitions, load.device, [&] { forward(*model, prompt); });

  const std::vector<int64_t> prompt_ids(prompt.data_ptr<int64_t>(), prompt.data_ptr<int64_t>() + prompt.numel());
  GenerationOptions generation;
  generation.max_new_tokens = o.new_tokens;
  generation.stop_at_eos = false;
  double decode_rate = 0;
  for (int i = 0; i < o.repetitions; ++i) {
    const GenerationResult r = generate(*model, prompt_ids, generation);
    decode_rate = std::max(decode_rate, (o.new_tokens - 1) / std::max(r.decode_seconds, 1e-9));
  }
  if (!scratch.empty()) fs::remove_all(scratch);

  const double prefill_rate = o.prompt_tokens / forward_seconds;
  std::cout << std::fixed << std::setprecision(2) << "model        " << (o.model.empty() ? "random" : o.model) << " ("
            << c.parameter_count() / 1e6 << "M parameters, " << dtype_name(model->dtype) << ", "
            << model->device.str() << ", " << at::get_num_threads() << " threads)\n"
            << "load         " << load_seconds * 1e3 << " ms\n"
            << "forward      " << forward_seconds * 1e3 << " ms for " << o.prompt_tokens << " tokens ("
            << prefill_rate << " tokens/s)\n"
            << "generation   " << decode_rate << " tokens/s (decode, " << o.new_tokens << " new tokens after a "
            << o.prompt_tokens << "-token prompt)\n";
  if (!o.json_path.empty()) {
    const nlohmann::json report = {
        {"model", o.model.empty() ? "random" : o.model},
        {"parameters", c.parameter_count()},
        {"dtype", dtype_name(model->dtype)},
        {"device", model->device.str()},
        {"threads", at::get_num_threads()},
        {"load_ms", load_seconds * 1e3},
        {"prompt_tokens", o.prompt_tokens},
        {"forward_ms", forward_seconds * 1e3},
        {"prefill_tokens_per_s", prefill_rate},
        {"new_tokens", o.new_tokens},
        {"decode_tokens_per_s", decode_rate},
    };
    write_file_atomically(o.json_path, report.dump(2) + "\n");
  }
  return 0;
}

}  // namespace lincat::bench
