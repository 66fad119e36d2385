#include "bench/bench_train.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "lincat/util/memory.h"
#include "lincat/model/converted_model.h"
#include "lincat/model/decoder.h"
#include "lincat/model/random_model.h"
#include "lincat/train/adamw.h"
#include "lincat/train/attention_transfer.h"
#include "lincat/train/checkpoint.h"
#include "lincat/train/finetune_loss.h"
#include "lincat/train/lora.h"
#include "lincat/util/atomic_file.h"
#include "lincat/util/error.h"

namespace lincat::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Phase {
  std::string name;
  double seconds = 0;  // best of the repetitions
  int64_t peak_bytes = 0;
};

Phase measure(const std::string& name, int repetitions, const std::function<void()>& run) {
  run();  // warm-up
  reset_peak_resident();
  Phase phase{name, 1e300, 0};
  for (int i = 0; i < repetitions; ++i) {
    const auto start = Clock::now();
    run();
    phase.seconds = std::min(phase.seconds, std::chrono::duration<double>(Clock::now() - start).count());
  }
  phase.peak_bytes = static_cast<int64_t>(peak_resident_bytes());
  return phase;
}

}  // namespace

int run_train_benchmark(const TrainBenchOptions& o) {
  if (o.sequence_length < 2 || o.repetitions < 1) throw UserError("--tokens must be >= 2 and --repetitions >= 1");
  std::string directory = o.model;
  const std::string temporary = (std::filesystem::temp_directory_path() / ("lincat-bench-train-" + std::to_string(::getpid()))).string();
  if (directory.empty()) {
    write_random_model(temporary, llama_config_of_size(o.random_parameters), 0);
    directory = temporary;
  }
  LoadOptions load;
  load.device = parse_device(o.device);
  const auto teacher = load_model(directory, load);
  const attention::HybridConfig& hybrid = o.hybrid;
  const auto student = convert_init(*teacher, hybrid);
  const int64_t T = o.sequence_length;
  torch::manual_seed(0);
  const at::Tensor ids = torch::randint(teacher->config.vocab_size, {1, T});  // [1, T]
  const at::Tensor mask = torch::ones({1, T});

  const Phase forward_phase = measure("teacher forward", o.repetitions, [&] {
    at::NoGradGuard no_grad;
    forward(*teacher, ids, attention::Mode::Softmax);
  });

  train::Stage1Settings stage1;
  std::vector<train::NamedParameter> hybrid_parameters = train::trainable_tensors(*student);
  for (auto& p : hybrid_parameters) p.tensor.requires_grad_(true);
  train::AdamW stage1_optimiser(hybrid_parameters);
  const Phase stage1_phase = measure("stage-1 step", o.repetitions, [&] {
    stage1_optimiser.zero_grad();
    train::transfer_losses(*student, ids, attention::Mode::Hybrid, stage1, 1.0, true);
    stage1_optimiser.step(1e-2, 0);
  });

  for (auto& p : hybrid_parameters) p.tensor.requires_grad_(false);
  train::add_lora(*student, train::LoraSettings{});
  std::vector<train::NamedParameter> lora_parameters;
  for (auto& p : train::trainable_tensors(*student)) {
    if (p.name.find(".lora_") != std::string::npos) lora_parameters.push_back(p);
  }
  for (auto& p : lora_parameters) p.tensor.requires_grad_(true);
  train::AdamW stage2_optimiser(lora_parameters);
  const Phase stage2_phase = measure("stage-2 step", o.repetitions, [&] {
    stage2_optimiser.zero_grad();
    train::finetune_losses(*student, nullptr, ids, mask, attention::Mode::Hybrid, hybrid, {}, 0, 1.0, true);
    stage2_optimiser.clip_grad_norm(1.0);
    stage2_optimiser.step(1e-4, 0);
  });
  if (o.model.empty()) std::filesystem::remove_all(temporary);

  nlohmann::json results = {{"parameters", teacher->config.parameter_count()}, {"sequence_length", T},
                            {"threads", at::get_num_threads()}, {"phases", nlohmann::json::array()}};
  std::cout << "model: " << teacher->config.parameter_count() / 1e6 << "M parameters, " << T << " tokens, "
            << at::get_num_threads() << " threads\n";
  std::cout << std::left << std::setw(18) << "phase" << std::right << std::setw(12) << "seconds" << std::setw(14)
            << "tokens/s" << std::setw(14) << "x forward" << std::setw(16) << "peak RSS MiB" << "\n";
  for (const Phase& p : {forward_phase, stage1_phase, stage2_phase}) {
    const double ratio = p.seconds / forward_phase.seconds;
    std::cout << std::left << std::setw(18) << p.name << std::right << std::fixed << std::setprecision(3)
              << std::setw(12) << p.seconds << std::setprecision(0) << std::setw(14) << T / p.seconds
              << std::setprecision(2) << std::setw(14) << ratio << std::setprecision(0) << std::setw(16)
              << p.peak_bytes / 1048576.0 << "\n";
    results["phases"].push_back({{"phase", p.name}, {"seconds", p.seconds}, {"tokens_per_second", T / p.seconds},
                                 {"ratio_to_forward", ratio}, {"peak_rss_bytes", p.peak_bytes}});
  }
  if (!o.json_path.empty()) write_file_atomically(o.json_path, results.dump(2) + "\n");
  return 0;
}

}  // namespace lincat::bench
