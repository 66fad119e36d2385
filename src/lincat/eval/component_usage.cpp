#include "lincat/eval/component_usage.h"

#include "lincat/attention/reference.h"
#include "lincat/attention/window.h"
#include "lincat/model/decoder.h"
#include "lincat/util/error.h"

namespace lincat::eval {

int64_t first_linear_position(const Model& model) {
  if (!model.config.hybrid) {
    throw UserError(model.directory + " is an original checkpoint: component usage needs a converted model");
  }
  const attention::HybridConfig& h = *model.config.hybrid;
  return attention::window_capacity(h) + h.sinks;
}

ComponentUsage measure_component_usage(const Model& model, const std::vector<std::vector<int64_t>>& sequences) {
  const int64_t first = first_linear_position(model);
  const ModelConfig& c = model.config;
  const int64_t L = c.num_layers, H = c.num_heads;
  torch::NoGradGuard no_grad;
  at::Tensor share_sum = torch::zeros({L, H}, torch::kDouble);   // [L, H]
  at::Tensor output_sum = torch::zeros({L, H}, torch::kDouble);  // [L, H]
  ComponentUsage usage;
  for (const std::vector<int64_t>& sequence : sequences) {
    const int64_t T = static_cast<int64_t>(sequence.size());
    if (T <= first) {
      throw UserError("component usage needs sequences longer than " + std::to_string(first) + " tokens, found " +
                      std::to_string(T));
    }
    check_token_ids(model, sequence, "component usage input");
    const at::Tensor ids = torch::tensor(sequence, torch::kLong).view({1, T});                // [1, T]
    // Each layer's q, k, v as the hybrid forward pass computes them, measured by the reference form.
    const LayerObserver measure = [&](int64_t l, const at::Tensor&, const QueryKeyValue& qkv, const at::Tensor&) {
      const LayerWeights& layer = model.weights.layers[static_cast<size_t>(l)];
      attention::AttentionDetails details;
      attention::reference_attention(qkv.q, qkv.k, qkv.v, layer.hybrid, *c.hybrid, attention::Mode::Hybrid, &details);
      // [1, H, T] -> summed over the positions with a linear set: [H]
      share_sum[l].add_(details.linear_share.slice(2, first, T).sum(at::IntArrayRef{0, 2}).to(torch::kDouble).cpu());
      output_sum[l].add_(details.linear_output_share.slice(2, first, T).sum(at::IntArrayRef{0, 2}).to(torch::kDouble).cpu());
    };
    forward_layers(model, ids, attention::Mode::Hybrid, nullptr, measure);
    usage.positions += T - first;
  }
  if (usage.positions == 0) throw UserError("component usage needs at least one sequence");
  share_sum /= static_cast<double>(usage.positions);
  output_sum /= static_cast<double>(usage.positions);
  for (int64_t l = 0; l < L; ++l) {
    usage.linear_share.emplace_back();
    usage.linear_output_share.emplace_back();
    for (int64_t h = 0; h < H; ++h) {
      usage.linear_share.back().push_back(share_sum[l][h].item<double>());
      usage.linear_output_share.back().push_back(output_sum[l][h].item<double>());
    }
  }
  usage.mean_linear_share = share_sum.mean().item<double>();
  usage.mean_linear_output_share = output_sum.mean().item<double>();
  return usage;
}

}  // namespace lincat::eval
