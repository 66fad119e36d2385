#include "bench/bench_model.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iomanip>
#include <map>
#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "lincat/generate/generate.h"
#include "lincat/io/hf_config.h"
#include "lincat/kernels/matvec_cpu.h"
#include "lincat/model/converted_model.h"
#include "lincat/model/decoder.h"
#include "lincat/model/layers.h"
#include "lincat/model/random_model.h"
#include "lincat/util/atomic_file.h"
#include "lincat/util/error.h"
#include "lincat/util/huge_pages.h"
#include "lincat/util/stopwatch.h"
#include "lincat/util/threads.h"

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

// Bytes/s of `pass` (which returns the bytes it read) repeated for at least a quarter of a second:
// about as long as a decode sample, since on this project's virtual machines a single pass of
// ~10 ms and a sustained read of the same memory can differ by half.
template <typename Pass>
double sustained_rate(Pass&& pass) {
  double bytes = 0;
  const auto start = SteadyClock::now();
  do {
    bytes += pass();
  } while (seconds_since(start) < 0.25);
  return bytes / seconds_since(start);
}

// Read bandwidth of this machine in bytes/s: sums over a buffer far larger than any cache (1 GiB of
// float32), with the current threads.
double read_bandwidth(const at::Tensor& buffer) {
  return sustained_rate([&] {
    buffer.sum();
    return static_cast<double>(buffer.numel() * buffer.element_size());
  });
}

// Bytes of weights one decode step reads: everything but the embedding table (one row is read),
// unless the LM head shares it.
double streamed_weight_bytes(const Model& model) {
  const ModelConfig& c = model.config;
  const int64_t embedding = c.tie_word_embeddings ? 0 : c.vocab_size * c.hidden_size;
  return static_cast<double>(c.parameter_count() - embedding) * static_cast<double>(at::elementSize(model.dtype));
}

// Every matrix a decode step streams, in the order it reads them.
std::vector<at::Tensor> streamed_matrices(const Model& model) {
  std::vector<at::Tensor> matrices;
  for (const LayerWeights& layer : model.weights.layers) {
    for (const at::Tensor* w : {&layer.q_proj, &layer.k_proj, &layer.v_proj, &layer.o_proj, &layer.gate_proj,
                                &layer.up_proj, &layer.down_proj}) {
      matrices.push_back(*w);
    }
  }
  matrices.push_back(model.weights.lm_head);
  return matrices;
}

// Bytes/s of passes of x W^T over `matrices` with one row x, through `product`.
template <typename Product>
double matvec_rate(const std::vector<at::Tensor>& matrices, Product&& product) {
  std::vector<at::Tensor> rows;
  for (const at::Tensor& w : matrices) rows.push_back(at::ones({w.size(1)}, w.options()));
  return sustained_rate([&] {
    double bytes = 0;
    for (size_t i = 0; i < matrices.size(); ++i) {
      product(matrices[i], rows[i]);
      bytes += static_cast<double>(matrices[i].numel() * matrices[i].element_size());
    }
    return bytes;
  });
}

// x W^T for one row as a decode step computes it: the raw-buffer kernel of model/decode_row.h for
// a float32 model on the CPU, else project().
at::Tensor decode_matvec(const at::Tensor& w, const at::Tensor& x) {
  if (!w.device().is_cpu() || w.scalar_type() != at::kFloat || !kernels::matvec_available()) {
    return project(x.view({1, -1}), w);
  }
  at::Tensor y = at::empty({w.size(0)}, w.options());
  matvec_float32(w.data_ptr<float>(), w.size(0), w.size(1), x.data_ptr<float>(), y.data_ptr<float>());
  return y;
}

double median_of_sorted(const std::vector<double>& sorted) {
  const size_t n = sorted.size();
  return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
}

// Decode tokens/s of one generate() call in `mode`.
double decode_rate(const Model& model, const std::vector<int64_t>& prompt, const ModelBenchOptions& o,
                   attention::Mode mode) {
  GenerationOptions generation;
  generation.max_new_tokens = o.new_tokens;
  generation.stop_at_eos = false;
  generation.mode = mode;
  const GenerationResult r = generate(model, prompt, generation);
  return static_cast<double>(o.new_tokens - 1) / std::max(r.decode_seconds, 1e-9);
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
  const int forward_threads = use_threads_for(c.hidden_size, o.prompt_tokens);  // as `lincat forward`
  const double forward_seconds = best_seconds(o.repetitions, load.device, [&] { forward(*model, prompt); });

  // Decode in the model's modes: an original model also as its untrained conversion (window 64,
  // f 64), whose decode cost is what a converted model's is. Threads as `lincat generate` chooses.
  const std::vector<int64_t> prompt_ids(prompt.data_ptr<int64_t>(), prompt.data_ptr<int64_t>() + prompt.numel());
  const int decode_threads = use_threads_for(c.hidden_size, 1);
  const std::shared_ptr<const Model> converted = c.hybrid ? model : convert_init(*model, attention::HybridConfig{});
  // Rounds of (bandwidth, every mode's decode): this machine's speed drifts by tens of percent
  // within minutes, and the best of interleaved samples puts the floor and each mode in the same
  // conditions. Best of each over the rounds; every sample lasts a quarter of a second or more, as a
  // decode sample does (a 30 ms sum caught lucky moments a third of a second of decoding did not).
  // Each decode sample is also paired with a bandwidth sample taken just before it, and the median
  // of those paired ratios is reported beside the best-over-best one.
  // In huge pages, as the weights (model/load.cpp): the floor is the rate memory of that kind is read at.
  const at::Tensor bandwidth_buffer =
      load.device.is_cpu() ? util::empty_in_huge_pages({{{int64_t{256} << 20}, at::kFloat}}).front().fill_(1) : at::Tensor();
  double bandwidth = 0;
  // The model's matrices streamed once with one row: lincat's projection (what decode runs) and
  // libtorch's matrix-vector product, to see how far the first is from the read bandwidth.
  const std::vector<at::Tensor> matrices = streamed_matrices(*model);
  // The same matrices copied to ordinary heap memory (4 KiB pages), for what the huge pages gain.
  std::vector<at::Tensor> heap_copies;
  if (load.device.is_cpu()) {
    for (const at::Tensor& w : matrices) heap_copies.push_back(w.clone());
  }
  double project_rate = 0, heap_rate = 0, mv_rate = 0;  // bytes/s
  std::vector<std::pair<attention::Mode, double>> decode_rates;  // per mode, tokens/s
  for (const attention::Mode mode : attention::all_modes()) decode_rates.emplace_back(mode, 0.0);
  std::map<attention::Mode, std::vector<double>> paired_ratios;  // per mode: decode time over the floor's, per round
  for (int round = 0; round < o.repetitions; ++round) {
    if (bandwidth_buffer.defined()) bandwidth = std::max(bandwidth, read_bandwidth(bandwidth_buffer));
    project_rate = std::max(project_rate, matvec_rate(matrices, [](const at::Tensor& w, const at::Tensor& x) {
                              return decode_matvec(w, x);
                            }));
    if (!heap_copies.empty()) heap_rate = std::max(heap_rate, matvec_rate(heap_copies, decode_matvec));
    mv_rate = std::max(mv_rate, matvec_rate(matrices, [](const at::Tensor& w, const at::Tensor& x) { return at::mv(w, x); }));
    for (auto& [mode, rate] : decode_rates) {
      const double bandwidth_now = bandwidth_buffer.defined() ? read_bandwidth(bandwidth_buffer) : 0.0;
      bandwidth = std::max(bandwidth, bandwidth_now);
      const double rate_now = decode_rate(mode == attention::Mode::Softmax ? *model : *converted, prompt_ids, o, mode);
      rate = std::max(rate, rate_now);
      paired_ratios[mode].push_back(bandwidth_now / streamed_weight_bytes(*model) / rate_now);
    }
  }
  const double floor_rate = bandwidth / streamed_weight_bytes(*model);  // tokens/s if only weights were read
  if (!scratch.empty()) fs::remove_all(scratch);

  const double prefill_rate = o.prompt_tokens / forward_seconds;
  std::cout << std::fixed << std::setprecision(2) << "model        " << (o.model.empty() ? "random" : o.model) << " ("
            << c.parameter_count() / 1e6 << "M parameters, " << dtype_name(model->dtype) << ", "
            << model->device.str() << ")\n"
            << "load         " << load_seconds * 1e3 << " ms\n"
            << "forward      " << forward_seconds * 1e3 << " ms for " << o.prompt_tokens << " tokens ("
            << prefill_rate << " tokens/s, " << forward_threads << " threads)\n"
            << "bandwidth    " << bandwidth / 1e9 << " GB/s read (" << decode_threads << " threads); weights read per "
            << "token " << streamed_weight_bytes(*model) / 1e6 << " MB: floor " << floor_rate << " tokens/s\n"
            << "huge pages   " << util::huge_page_bytes() / (1 << 20) << " MiB of this process's memory (weights and "
            << "the bandwidth buffer ask for them)\n"
            << "matvec       one row through every streamed matrix: " << project_rate / 1e9 << " GB/s as decode runs it, "
            << heap_rate / 1e9 << " GB/s from a copy on 4 KiB heap pages, " << mv_rate / 1e9 << " GB/s with at::mv\n"
            << "decode       " << o.new_tokens << " new tokens after a " << o.prompt_tokens << "-token prompt, "
            << decode_threads << " threads\n";
  nlohmann::json decode_rows = nlohmann::json::array();
  for (const auto& [mode, rate] : decode_rates) {
    std::vector<double>& paired = paired_ratios[mode];
    std::sort(paired.begin(), paired.end());
    const double paired_median = median_of_sorted(paired);
    std::cout << "  " << std::left << std::setw(8) << attention::mode_name(mode) << std::right << std::setw(10) << rate
              << " tokens/s, " << floor_rate / rate << "x the floor's time; paired with the bandwidth just before: "
              << "median " << paired_median << "x (" << paired.front() << "-" << paired.back() << ")\n";
    decode_rows.push_back({{"mode", attention::mode_name(mode)},
                           {"decode_tokens_per_s", rate},
                           {"time_over_floor", floor_rate / rate},
                           {"time_over_floor_paired_median", paired_median},
                           {"time_over_floor_paired", paired}});
  }
  const double decode_rate_of_model = decode_rates.front().second;  // the softmax row (all_modes() starts with it)
  if (!o.json_path.empty()) {
    const nlohmann::json report = {
        {"model", o.model.empty() ? "random" : o.model},
        {"parameters", c.parameter_count()},
        {"dtype", dtype_name(model->dtype)},
        {"device", model->device.str()},
        {"forward_threads", forward_threads},
        {"decode_threads", decode_threads},
        {"read_bandwidth_bytes_per_s", bandwidth},
        {"huge_page_bytes", util::huge_page_bytes()},
        {"streamed_weight_bytes", streamed_weight_bytes(*model)},
        {"floor_tokens_per_s", floor_rate},
        {"matvec_bytes_per_s", project_rate},
        {"matvec_heap_pages_bytes_per_s", heap_rate},
        {"at_mv_bytes_per_s", mv_rate},
        {"decode", decode_rows},
        {"load_ms", load_seconds * 1e3},
        {"prompt_tokens", o.prompt_tokens},
        {"forward_ms", forward_seconds * 1e3},
        {"prefill_tokens_per_s", prefill_rate},
        {"new_tokens", o.new_tokens},
        {"decode_tokens_per_s", decode_rate_of_model},
    };
    write_file_atomically(o.json_path, report.dump(2) + "\n");
  }
  return 0;
}

}  // namespace lincat::bench
