#include "lincat/attention/form_support.h"

#include "lincat/attention/key_sets.h"

namespace lincat::attention::detail {

at::ScalarType compute_dtype(const at::Tensor& q) {
  return q.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
}

void check_inputs(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                  const HybridLayerWeights& weights, const HybridConfig& config) {
  TORCH_CHECK(q.dim() == 4, "q must be [B, H, T, d], found ", q.sizes());
  TORCH_CHECK(k.dim() == 4 && k.sizes() == v.sizes(), "k and v must be [B, Hkv, T, d], found ",
              k.sizes(), " and ", v.sizes());
  TORCH_CHECK(k.size(0) == q.size(0) && k.size(2) == q.size(2) && k.size(3) == q.size(3),
              "k [B, Hkv, T, d] ", k.sizes(), " does not match q [B, H, T, d] ", q.sizes());
  TORCH_CHECK(k.size(1) >= 1 && q.size(1) % k.size(1) == 0, "query heads ", q.size(1),
              " are not a multiple of kv heads ", k.size(1));
  const int64_t heads = q.size(1);
  TORCH_CHECK(weights.mixing_logit.defined() && weights.mixing_logit.dim() == 1 &&
                  weights.mixing_logit.size(0) == heads,
              "mixing_logit must be [H] = [", heads, "]");
  for (const at::Tensor* projection : {&weights.feature_q, &weights.feature_k}) {
    if (!projection->defined()) continue;
    TORCH_CHECK(projection->dim() == 3 && projection->size(0) == heads &&
                    projection->size(1) == q.size(3) &&
                    projection->size(2) == config.feature_dim,
                "feature projection must be [H, d, f] = [", heads, ", ", q.size(3), ", ",
                config.feature_dim, "], found ", projection->sizes());
  }
}

at::Tensor expand_kv(const at::Tensor& kv, int64_t heads) {
  const int64_t kv_heads = kv.size(1);
  if (kv_heads == heads) return kv;
  const int64_t group = heads / kv_heads;
  // [B, Hkv, T, e] -> [B, Hkv, group, T, e] -> [B, H, T, e]
  return kv.unsqueeze(2)
      .expand({kv.size(0), kv_heads, group, kv.size(2), kv.size(3)})
      .reshape({kv.size(0), heads, kv.size(2), kv.size(3)});
}

at::Tensor softmax_branch_weight(const HybridLayerWeights& weights, Mode mode, int64_t trailing,
                                 at::ScalarType dtype) {
  if (!softmax_branch_is_mixed(mode)) {
    return at::ones({1}, weights.mixing_logit.options().dtype(dtype));
  }
  std::vector<int64_t> shape = {1, weights.mixing_logit.size(0)};  // [1, H, 1, ...]
  shape.insert(shape.end(), trailing, 1);
  return at::sigmoid(weights.mixing_logit.to(dtype)).view(shape);
}

at::Tensor build_mask(int64_t rows, int64_t cols, const std::function<bool(int64_t, int64_t)>& include,
                      const at::Device& device) {
  at::Tensor mask = at::empty({rows, cols}, at::kBool);  // [rows, cols]
  bool* data = mask.data_ptr<bool>();
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) data[r * cols + c] = include(r, c);
  }
  return mask.to(device);
}

at::Tensor divide_by_normaliser(const at::Tensor& num, const at::Tensor& den) {
  return num / den.clamp_min(kDenominatorFloor).unsqueeze(-1);
}

}  // namespace lincat::attention::detail
