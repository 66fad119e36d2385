#include "lincat/eval/component_usage.h"

#include <random>

#include "lincat/attention/key_sets.h"
#include "lincat/attention/reference.h"
#include "lincat/attention/window.h"
#include "lincat/model/decoder.h"
#include "lincat/util/error.h"

namespace lincat::eval {
namespace {

Interval interval_of(const at::Tensor& sorted_samples, double mean) {  // [B], ascending
  const int64_t B = sorted_samples.size(0);
  const auto at_fraction = [&](double q) {
    const auto i = static_cast<int64_t>(q * static_cast<double>(B - 1) + 0.5);
    return sorted_samples[std::min(std::max<int64_t>(i, 0), B - 1)].item<double>();
  };
  return {mean, at_fraction(0.025), at_fraction(0.975)};
}

// Percentile intervals of ratio means: sums [S, L, H] per sequence, counts [S] positions per
// sequence; each resample draws S sequences with replacement.
struct BootstrapIntervals {
  std::vector<std::vector<Interval>> head;  // [L][H]
  std::vector<Interval> layer;              // [L]
  Interval model;
};
BootstrapIntervals bootstrap(const at::Tensor& sums, const at::Tensor& counts, int samples, uint64_t seed) {
  const int64_t S = sums.size(0), L = sums.size(1), H = sums.size(2);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> pick(0, S - 1);
  at::Tensor draws = torch::zeros({samples, S}, torch::kDouble);  // [B, S] times each sequence is drawn
  auto d = draws.accessor<double, 2>();
  for (int b = 0; b < samples; ++b) {
    for (int64_t s = 0; s < S; ++s) d[b][pick(rng)] += 1;
  }
  const at::Tensor resampled = at::matmul(draws, sums.view({S, L * H})) / at::matmul(draws, counts).unsqueeze(1);  // [B, L*H]
  const at::Tensor per_head = resampled.view({samples, L, H});                                                      // [B, L, H]
  const at::Tensor full = sums.sum(0) / counts.sum();                                                                // [L, H]
  BootstrapIntervals out;
  const at::Tensor head_sorted = std::get<0>(per_head.sort(0));      // [B, L, H]
  const at::Tensor layer_sorted = std::get<0>(per_head.mean(2).sort(0));  // [B, L]
  for (int64_t l = 0; l < L; ++l) {
    out.head.emplace_back();
    for (int64_t h = 0; h < H; ++h) out.head.back().push_back(interval_of(head_sorted.select(2, h).select(1, l), full[l][h].item<double>()));
    out.layer.push_back(interval_of(layer_sorted.select(1, l), full[l].mean().item<double>()));
  }
  out.model = interval_of(std::get<0>(per_head.mean(at::IntArrayRef{1, 2}).sort(0)), full.mean().item<double>());
  return out;
}

std::vector<std::vector<double>> table(const at::Tensor& values) {  // [L, H]
  std::vector<std::vector<double>> rows;
  for (int64_t l = 0; l < values.size(0); ++l) {
    rows.emplace_back();
    for (int64_t h = 0; h < values.size(1); ++h) rows.back().push_back(values[l][h].item<double>());
  }
  return rows;
}

}  // namespace

std::vector<std::string> layer_usage_verdicts(const ComponentUsage& usage) {
  std::vector<std::string> verdicts;
  for (size_t l = 0; l < usage.linear_share.size(); ++l) {
    if (usage.layer_linear_share.size() <= l) {
      verdicts.push_back("unknown");
    } else {
      verdicts.push_back(usage.layer_linear_share[l].high < kBypassedShare ? "bypassed" : "used");
    }
  }
  return verdicts;
}

int64_t first_linear_position(const Model& model) {
  if (!model.config.hybrid) {
    throw UserError(model.directory + " is an original checkpoint: component usage needs a converted model");
  }
  const attention::HybridConfig& h = *model.config.hybrid;
  return attention::window_capacity(h) + h.sinks;
}

attention::Mode usage_mode(const Model& model) {
  const attention::Mode mode = model.config.default_mode;
  return attention::softmax_branch_is_mixed(mode) ? mode : attention::Mode::Hybrid;
}

ComponentUsage measure_component_usage(const Model& model, const std::vector<std::vector<int64_t>>& sequences,
                                       attention::Mode mode, int bootstrap_samples, uint64_t seed,
                                       const ItemProgress& progress) {
  const int64_t first = first_linear_position(model);
  if (!attention::softmax_branch_is_mixed(mode)) {
    throw UserError("component usage needs a mode with both branches (hybrid or overlap), not " + attention::mode_name(mode));
  }
  const ModelConfig& c = model.config;
  const int64_t L = c.num_layers, H = c.num_heads, S = static_cast<int64_t>(sequences.size());
  if (S == 0) throw UserError("component usage needs at least one sequence");
  torch::NoGradGuard no_grad;
  at::Tensor share_sums = torch::zeros({S, L, H}, torch::kDouble);   // [S, L, H] summed over positions
  at::Tensor output_sums = torch::zeros({S, L, H}, torch::kDouble);  // [S, L, H]
  at::Tensor counts = torch::zeros({S}, torch::kDouble);             // [S] positions measured
  ComponentUsage usage;
  usage.mode = mode;
  usage.sequences = S;
  for (int64_t s = 0; s < S; ++s) {
    const std::vector<int64_t>& sequence = sequences[static_cast<size_t>(s)];
    const int64_t T = static_cast<int64_t>(sequence.size());
    if (T <= first) {
      throw UserError("component usage needs sequences longer than " + std::to_string(first) + " tokens, found " +
                      std::to_string(T));
    }
    check_token_ids(model, sequence, "component usage input");
    const at::Tensor ids = torch::tensor(sequence, torch::kLong).view({1, T});                // [1, T]
    // Each layer's q, k, v as the forward pass in `mode` computes them, measured by the reference form.
    const LayerObserver measure = [&](int64_t l, const at::Tensor&, const QueryKeyValue& qkv, const at::Tensor&) {
      const LayerWeights& layer = model.weights.layers[static_cast<size_t>(l)];
      attention::AttentionDetails details;
      attention::reference_attention(qkv.q, qkv.k, qkv.v, layer.hybrid, *c.hybrid, mode, &details);
      // [1, H, T] -> summed over the positions beyond the window: [H]
      share_sums[s][l].add_(details.linear_share.slice(2, first, T).sum(at::IntArrayRef{0, 2}).to(torch::kDouble).cpu());
      output_sums[s][l].add_(details.linear_output_share.slice(2, first, T).sum(at::IntArrayRef{0, 2}).to(torch::kDouble).cpu());
    };
    forward_layers(model, ids, mode, nullptr, measure);
    counts[s] = static_cast<double>(T - first);
    usage.positions += T - first;
    if (progress) progress(s + 1, S);
  }
  const at::Tensor share = share_sums.sum(0) / counts.sum(), output = output_sums.sum(0) / counts.sum();  // [L, H]
  usage.linear_share = table(share);
  usage.linear_output_share = table(output);
  usage.mean_linear_share = share.mean().item<double>();
  usage.mean_linear_output_share = output.mean().item<double>();
  if (S >= 2 && bootstrap_samples > 0) {
    const BootstrapIntervals a = bootstrap(share_sums, counts, bootstrap_samples, seed);
    const BootstrapIntervals b = bootstrap(output_sums, counts, bootstrap_samples, seed);
    usage.linear_share_interval = a.head;
    usage.layer_linear_share = a.layer;
    usage.model_linear_share = a.model;
    usage.linear_output_share_interval = b.head;
    usage.layer_linear_output_share = b.layer;
    usage.model_linear_output_share = b.model;
  }
  return usage;
}

}  // namespace lincat::eval
