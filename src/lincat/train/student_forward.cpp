#include "lincat/train/student_forward.h"

#include <algorithm>

#include "lincat/model/decoder.h"

namespace lincat::train {

LayerAttention student_attention(const Model& model, attention::Mode mode, const attention::HybridConfig& hybrid,
                                 const DropPlan& drops) {
  // q [B, H, T, d], k, v [B, Hkv, T, d] -> [B, H, T, d]; the heads drops[layer] marks in linear mode.
  return [&model, mode, &hybrid, &drops](int64_t layer, const QueryKeyValue& qkv) {
    const auto in = [&](attention::Mode m) { return layer_attention(model, layer, qkv, 0, m, &hybrid, nullptr); };
    if (drops.empty()) return in(mode);
    const std::vector<bool>& dropped = drops[static_cast<size_t>(layer)];
    const bool any = std::find(dropped.begin(), dropped.end(), true) != dropped.end();
    const bool all = std::find(dropped.begin(), dropped.end(), false) == dropped.end();
    if (!any) return in(mode);
    const at::Tensor linear = in(attention::Mode::Linear);
    if (all) return linear;
    std::vector<int64_t> flags(dropped.begin(), dropped.end());
    const at::Tensor mask = torch::tensor(flags).to(qkv.q.device()).to(at::kBool).view({1, -1, 1, 1});  // [1, H, 1, 1]
    return at::where(mask, linear, in(mode));
  };
}

at::Tensor student_logits(const Model& model, const at::Tensor& ids, attention::Mode mode,
                          const attention::HybridConfig& hybrid, const DropPlan& drops) {
  return output_logits(model, run_layers(model, ids, 0, student_attention(model, mode, hybrid, drops)));  // [B, T, V]
}

}  // namespace lincat::train
