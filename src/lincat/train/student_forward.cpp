#include "lincat/train/student_forward.h"

#include <algorithm>

#include "lincat/attention/chunked.h"
#include "lincat/model/layers.h"

namespace lincat::train {
namespace {

// q [B, H, T, d], k, v [B, Hkv, T, d] -> [B, H, T, d]; the heads in `dropped` in linear mode.
at::Tensor attention_with_drops(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                const attention::HybridLayerWeights& w, const attention::HybridConfig& hybrid,
                                attention::Mode mode, const std::vector<bool>& dropped) {
  const bool any = std::find(dropped.begin(), dropped.end(), true) != dropped.end();
  const bool all = std::find(dropped.begin(), dropped.end(), false) == dropped.end();
  if (!any) return attention::chunked_attention(q, k, v, w, hybrid, mode);
  const at::Tensor linear = attention::chunked_attention(q, k, v, w, hybrid, attention::Mode::Linear);
  if (all) return linear;
  std::vector<int64_t> flags(dropped.begin(), dropped.end());
  const at::Tensor mask = torch::tensor(flags).to(q.device()).to(at::kBool).view({1, -1, 1, 1});  // [1, H, 1, 1]
  return at::where(mask, linear, attention::chunked_attention(q, k, v, w, hybrid, mode));
}

}  // namespace

at::Tensor student_logits(const Model& model, const at::Tensor& ids, attention::Mode mode,
                          const attention::HybridConfig& hybrid, const DropPlan& drops) {
  const ModelConfig& c = model.config;
  const ModelWeights& w = model.weights;
  const std::vector<bool> none(static_cast<size_t>(c.num_heads), false);
  at::Tensor h = at::embedding(w.embed_tokens, ids.to(model.device));  // [B, T, D]
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const LayerWeights& layer = w.layers[static_cast<size_t>(i)];
    const auto [q, k, v] = project_qkv(model, layer, rms_norm(h, layer.input_norm, c.rms_norm_eps), 0);
    const std::vector<bool>& dropped = drops.empty() ? none : drops[static_cast<size_t>(i)];
    h = h + project_output(layer, attention_with_drops(q, k, v, layer.hybrid, hybrid, mode, dropped));
    h = h + mlp_block(layer, rms_norm(h, layer.post_attention_norm, c.rms_norm_eps));
  }
  return at::linear(rms_norm(h, w.final_norm, c.rms_norm_eps), w.lm_head).to(at::kFloat);  // [B, T, V]
}

}  // namespace lincat::train
