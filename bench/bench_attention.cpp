#include "bench/bench_attention.h"

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "lincat/util/memory.h"
#include "lincat/attention/chunked.h"
#include "lincat/attention/reference.h"
#include "lincat/util/allocator.h"
#include "lincat/util/error.h"
#include "lincat/util/threads.h"

namespace lincat::bench {
namespace {

using attention::HybridConfig;
using attention::HybridLayerWeights;
using attention::Mode;

struct BenchShape {
  std::string name;
  int64_t heads;
  int64_t head_dim;
  int feature_dim;
  int window;
};

const std::vector<BenchShape> kShapes = {
    {"llama7b-layer", 32, 128, 64, 64},  // one layer of Llama-7B: 32 heads of 128, B = 1
    {"small", 4, 16, 16, 64},
};

enum class Pass { Forward, ForwardBackward };

// dense: the reference (n x n); chunked: chunked_attention as lincat runs it (the CPU kernel
// here); ops: the same form through libtorch operators, what the kernel replaced.
enum class Form { Dense, Chunked, Operators };

const char* form_name(Form form) {
  return form == Form::Dense ? "dense" : form == Form::Chunked ? "chunked" : "ops";
}

const char* pass_name(Pass pass) { return pass == Pass::Forward ? "forward" : "forward+backward"; }

struct Measurement {
  std::string shape;
  int64_t length;
  std::string form;
  Pass pass;
  double seconds;
  double flops;  // analytic, chunked form only (0 for the reference)
};

double seconds_of(const std::function<void()>& run) {
  const auto start = std::chrono::steady_clock::now();
  run();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double best_seconds(int repetitions, const std::function<void()>& run) {
  double best = seconds_of(run);
  for (int r = 1; r < repetitions; ++r) best = std::min(best, seconds_of(run));
  return best;
}

// fp32 GFLOP/s of a 1024 x 1024 x 1024 at::mm, best of five after a warm-up.
double matmul_gflops() {
  const at::Tensor a = at::randn({1024, 1024});
  const at::Tensor b = at::randn({1024, 1024});
  at::mm(a, b);
  const double seconds = best_seconds(5, [&] { at::mm(a, b); });
  return 2.0 * 1024 * 1024 * 1024 / seconds / 1e9;
}

// FLOPs of the chunked hybrid forward, counting matrix products only (2 per multiply-add), per
// padded token and head: feature projections of q and k (2 x d f), the [C x 2C] window block
// (scores and values, 2 x 2C d), the [C x C] linear block (C F + C d), the per-chunk states
// (F d) and the prefix read (F d + F).
double chunked_forward_flops(const BenchShape& shape, int64_t length) {
  const double d = shape.head_dim, f = shape.feature_dim, features = 2.0 * f, c = shape.window;
  const double padded = static_cast<double>((length + shape.window - 1) / shape.window * shape.window);
  const double per_token = 2.0 * (2 * d * f + 4 * c * d + c * features + c * d + 2 * features * d + features);
  return per_token * padded * static_cast<double>(shape.heads);
}

// Backward costs about two forwards' worth of matrix products.
double chunked_flops(const BenchShape& shape, int64_t length, Pass pass) {
  return chunked_forward_flops(shape, length) * (pass == Pass::Forward ? 1.0 : 3.0);
}

// Rough peak memory, fitted to measured peaks (Llama shape, n = 2048 to 16384). Dense: about 15
// (forward) or 17 (with backward) [H, n, n] float32 arrays. Chunked forward (no autograd, heads
// in groups): about 8 [H, n, d] arrays plus 1 GiB of temporaries; with backward about 30
// [H, n, d + 2C] arrays.
double estimated_gib(const BenchShape& shape, int64_t length, bool dense, Pass pass) {
  const double gib = 1024.0 * 1024.0 * 1024.0;
  const double heads = static_cast<double>(shape.heads), n = static_cast<double>(length);
  if (dense) return heads * n * n * (pass == Pass::Forward ? 15.0 : 17.0) * 4.0 / gib;
  if (pass == Pass::Forward) return heads * n * shape.head_dim * 8.0 * 4.0 / gib + 1.0;
  return heads * n * (shape.head_dim + 2.0 * shape.window) * 30.0 * 4.0 / gib;
}

struct Problem {
  at::Tensor q, k, v;  // [1, H, n, d]
  HybridLayerWeights weights;
  HybridConfig config;
};

Problem make_problem(const BenchShape& shape, int64_t length) {
  Problem p;
  p.config.window = shape.window;
  p.config.feature_dim = shape.feature_dim;
  p.q = at::randn({1, shape.heads, length, shape.head_dim});
  p.k = at::randn({1, shape.heads, length, shape.head_dim});
  p.v = at::randn({1, shape.heads, length, shape.head_dim});
  p.weights = attention::make_identity_weights(shape.heads, shape.head_dim, p.config);
  return p;
}

struct Timing {
  double seconds;          // best of the repetitions
  int64_t peak_extra_bytes;  // peak resident memory of the first run beyond inputs and outputs
};

// Best of `repetitions` runs; the first also measures the peak memory it adds, from a trimmed heap.
Timing time_and_peak(int repetitions, int64_t input_output_bytes, const std::function<void()>& run) {
  reset_peak_resident();  // from a trimmed heap
  const auto before = static_cast<int64_t>(resident_bytes());
  Timing timing{seconds_of(run), 0};
  timing.peak_extra_bytes =
      std::max<int64_t>(0, static_cast<int64_t>(peak_resident_bytes()) - before - input_output_bytes);
  for (int r = 1; r < repetitions; ++r) timing.seconds = std::min(timing.seconds, seconds_of(run));
  return timing;
}

int64_t bytes_of(const at::Tensor& t) { return t.numel() * static_cast<int64_t>(t.element_size()); }

Timing time_form(const Problem& p, Form form, Pass pass, int repetitions) {
  auto forward = [&](const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                     const HybridLayerWeights& w) {
    switch (form) {
      case Form::Dense:
        return attention::reference_attention(q, k, v, w, p.config, Mode::Hybrid);
      case Form::Chunked:
        return attention::chunked_attention(q, k, v, w, p.config, Mode::Hybrid);
      default:
        return attention::detail::chunked_attention_with_operators(q, k, v, w, p.config, Mode::Hybrid);
    }
  };
  if (pass == Pass::Forward) {
    const at::NoGradGuard no_grad;
    // The inputs are resident already; the output [1, H, n, d] is what the call must return.
    return time_and_peak(repetitions, bytes_of(p.q), [&] { forward(p.q, p.k, p.v, p.weights); });
  }
  const at::Tensor q = p.q.clone().requires_grad_(true), k = p.k.clone().requires_grad_(true);
  const at::Tensor v = p.v.clone().requires_grad_(true);
  HybridLayerWeights w = p.weights;
  for (at::Tensor* t : {&w.feature_q, &w.feature_k, &w.mixing_logit}) *t = t->clone().requires_grad_(true);
  const std::vector<at::Tensor> inputs = {q, k, v, w.feature_q, w.feature_k, w.mixing_logit};
  // Outputs: the forward's [1, H, n, d] and a gradient for every input.
  int64_t output_bytes = bytes_of(q);
  for (const at::Tensor& input : inputs) output_bytes += bytes_of(input);
  return time_and_peak(repetitions, output_bytes, [&] {
    torch::autograd::grad({forward(q, k, v, w).sum()}, inputs);
  });
}

void write_json_atomically(const std::string& path, const nlohmann::json& document) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary);
    if (!out) throw UserError("--json " + path + ": cannot write " + temporary);
    out << document.dump(2) << "\n";
    if (!out.flush()) throw UserError("--json " + path + ": write failed");
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) throw UserError("--json " + path + ": cannot rename " + temporary + ": " + error.message());
}

}  // namespace

int run_attention_benchmark(const AttentionBenchOptions& options) {
  const bool heap = util::keep_large_allocations_in_heap();
  at::set_num_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  const double matmul = matmul_gflops();
  std::printf("fp32 matmul (1024^3 at::mm, %d threads): %.1f GFLOP/s; large allocations %s\n",
              at::get_num_threads(), matmul, heap ? "kept in heap" : "mmap()ed");
  std::printf("hybrid mode, standard window, hedgehog; chunked: as lincat runs it (the CPU kernel where it applies), ops: the\n"
              "same form through libtorch operators; GFLOP/s counts the chunked algorithm's matrix products\n\n");
  std::printf("%-14s %6s %-8s %-17s %7s %10s %10s %9s %8s %8s %8s\n", "shape", "n", "form", "pass", "threads",
              "ms", "us/token", "+peak MiB", "GFLOP/s", "%matmul", "speedup");

  nlohmann::json rows = nlohmann::json::array();
  for (const BenchShape& shape : kShapes) {
    if (options.small_shape_only && shape.name != "small") continue;
    for (const Pass pass : {Pass::Forward, Pass::ForwardBackward}) {
      const Problem warm_up = make_problem(shape, options.min_length);
      for (const Form form : {Form::Dense, Form::Chunked, Form::Operators}) {
        const bool dense = form == Form::Dense;
        const double limit = dense ? options.dense_memory_limit_gib : options.chunked_memory_limit_gib;
        if (estimated_gib(shape, options.min_length, dense, pass) <= limit) time_form(warm_up, form, pass, 1);
      }
      for (int64_t length = options.min_length; length <= options.max_length; length *= 2) {
        const int threads = use_threads_for(shape.heads * shape.head_dim, length);
        const Problem problem = make_problem(shape, length);
        double dense_seconds = 0;
        for (const Form form : {Form::Dense, Form::Chunked, Form::Operators}) {
          const bool dense = form == Form::Dense;
          const double limit = dense ? options.dense_memory_limit_gib : options.chunked_memory_limit_gib;
          if (estimated_gib(shape, length, dense, pass) > limit) continue;
          const Timing timing = time_form(problem, form, pass, options.repetitions);
          const double seconds = timing.seconds;
          const double flops = dense ? 0.0 : chunked_flops(shape, length, pass);
          const double gflops = flops / seconds / 1e9;
          if (dense) dense_seconds = seconds;
          std::printf("%-14s %6lld %-8s %-17s %7d %10.2f %10.2f %9.1f", shape.name.c_str(),
                      static_cast<long long>(length), form_name(form), pass_name(pass), threads,
                      seconds * 1e3, seconds * 1e6 / length,
                      static_cast<double>(timing.peak_extra_bytes) / (1024.0 * 1024.0));
          if (dense) {
            std::printf(" %8s %8s %8s\n", "-", "-", "-");
          } else if (dense_seconds > 0) {
            std::printf(" %8.1f %7.1f%% %7.2fx\n", gflops, 100 * gflops / matmul, dense_seconds / seconds);
          } else {
            std::printf(" %8.1f %7.1f%% %8s\n", gflops, 100 * gflops / matmul, "-");
          }
          std::fflush(stdout);
          nlohmann::json row = {{"shape", shape.name},
                                {"heads", shape.heads},
                                {"head_dim", shape.head_dim},
                                {"feature_dim", shape.feature_dim},
                                {"window", shape.window},
                                {"n", length},
                                {"form", form_name(form)},
                                {"pass", pass_name(pass)},
                                {"seconds", seconds},
                                {"us_per_token", seconds * 1e6 / length},
                                {"matmul_gflops", matmul},
                                {"threads", threads},
                                {"peak_extra_bytes", timing.peak_extra_bytes}};
          if (!dense) {
            row["flops"] = flops;
            row["gflops"] = gflops;
            row["fraction_of_matmul"] = gflops / matmul;
            if (dense_seconds > 0) row["speedup_vs_dense"] = dense_seconds / seconds;
          }
          rows.push_back(row);
        }
      }
    }
  }
  if (!options.json_path.empty()) write_json_atomically(options.json_path, rows);
  return 0;
}

}  // namespace lincat::bench
