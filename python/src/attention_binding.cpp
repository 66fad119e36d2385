// lincat.hybrid_attention: the library's hybrid attention (attention/hybrid_attention.h and the
// recurrent form) on torch tensors, with every setting a keyword.
#include <optional>

#include "bindings.h"
#include "lincat/attention/hybrid_attention.h"
#include "lincat/attention/recurrent.h"
#include "lincat/model/weights.h"
#include "lincat/util/error.h"

namespace lincat::python {
namespace {

namespace py = pybind11;
using attention::FeatureMapKind;
using attention::HybridConfig;
using attention::HybridLayerWeights;
using attention::Mode;

void require(bool ok, const std::string& message) {
  if (!ok) throw UserError("hybrid_attention: " + message);
}

std::string shape_of(const at::Tensor& t) { return shape_string(t.sizes().vec()); }

void require_shape(const at::Tensor& t, const std::vector<int64_t>& shape, const std::string& name) {
  require(t.sizes().vec() == shape, name + " has shape " + shape_of(t) + ", expected " + shape_string(shape));
}

// One query position at a time through the decode state: the form generation uses. Inference
// only: the state updates run without autograd, so the output carries no gradient.
at::Tensor recurrent_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                               const HybridLayerWeights& weights, const HybridConfig& config, Mode mode) {
  at::NoGradGuard no_grad;
  attention::HybridLayerState state;
  std::vector<at::Tensor> outputs;  // each [B, H, 1, d]
  for (int64_t t = 0; t < q.size(2); ++t) {
    outputs.push_back(attention::decode_step(q.narrow(2, t, 1), k.narrow(2, t, 1), v.narrow(2, t, 1), weights,
                                             config, mode, state));
  }
  return at::cat(outputs, 2);  // [B, H, T, d]
}

at::Tensor hybrid_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            std::optional<at::Tensor> feature_map_q, std::optional<at::Tensor> feature_map_k,
                            const at::Tensor& window_logits, int window, const std::string& mode_name,
                            const std::string& layout, int sinks, const std::string& form,
                            const std::string& feature_map, std::optional<at::Tensor> bias_q,
                            std::optional<at::Tensor> bias_k, int sinks_mode_keys) {
  require(q.dim() == 4 && k.dim() == 4 && v.dim() == 4,
          "q [B, H, T, d], k and v [B, Hkv, T, d] expected; got q " + shape_of(q) + ", k " + shape_of(k) +
              ", v " + shape_of(v));
  const int64_t B = q.size(0), H = q.size(1), T = q.size(2), d = q.size(3), Hkv = k.size(1);
  require_shape(k, {B, Hkv, T, d}, "k");
  require_shape(v, {B, Hkv, T, d}, "v");
  require(Hkv > 0 && H % Hkv == 0, "k's heads (" + std::to_string(Hkv) + ") must divide q's (" + std::to_string(H) + ")");
  require(q.is_floating_point() && q.scalar_type() == k.scalar_type() && q.scalar_type() == v.scalar_type(),
          "q, k and v must share one floating dtype");

  HybridConfig config;
  config.window = window;
  config.layout = attention::parse_layout(layout);
  config.sinks = sinks;
  config.feature_map = attention::parse_feature_map(feature_map);
  config.sinks_mode_keys = sinks_mode_keys;
  HybridLayerWeights weights;
  if (attention::has_projection(config.feature_map)) {
    require(feature_map_q && feature_map_k, "feature map '" + feature_map + "' needs feature_map_q and feature_map_k [H, d, f]");
    require(feature_map_q->dim() == 3, "feature_map_q has shape " + shape_of(*feature_map_q) + ", expected [H, d, f]");
    config.feature_dim = static_cast<int>(feature_map_q->size(2));
    require_shape(*feature_map_q, {H, d, config.feature_dim}, "feature_map_q");
    require_shape(*feature_map_k, {H, d, config.feature_dim}, "feature_map_k");
    weights.feature_q = *feature_map_q;
    weights.feature_k = *feature_map_k;
  } else {
    require(!feature_map_q && !feature_map_k, "feature map '" + feature_map + "' has no projection: pass feature_map_q=None, feature_map_k=None");
  }
  if (attention::has_bias(config.feature_map)) {
    require(bias_q && bias_k, "feature map '" + feature_map + "' needs bias_q and bias_k [H, f]");
    require_shape(*bias_q, {H, config.feature_dim}, "bias_q");
    require_shape(*bias_k, {H, config.feature_dim}, "bias_k");
    weights.bias_q = *bias_q;
    weights.bias_k = *bias_k;
  } else {
    require(!bias_q && !bias_k, "feature map '" + feature_map + "' has no bias");
  }
  require_shape(window_logits, {H}, "window_logits");
  weights.mixing_logit = window_logits;
  attention::validate(config);
  const Mode mode = attention::parse_mode(mode_name);

  py::gil_scoped_release release;
  if (form == "reference") return attention::hybrid_attention(q, k, v, weights, config, mode, attention::Form::Reference);
  if (form == "chunked") return attention::hybrid_attention(q, k, v, weights, config, mode, attention::Form::Chunked);
  if (form == "recurrent") return recurrent_attention(q, k, v, weights, config, mode);
  throw UserError("hybrid_attention: unknown form '" + form + "' (expected chunked, reference or recurrent)");
}

}  // namespace

void add_attention(py::module_& module) {
  module.def("hybrid_attention", &hybrid_attention, py::arg("q"), py::arg("k"), py::arg("v"),
             py::arg("feature_map_q"), py::arg("feature_map_k"), py::arg("window_logits"), py::kw_only(),
             py::arg("window") = 64, py::arg("mode") = "hybrid", py::arg("layout") = "standard",
             py::arg("sinks") = 0, py::arg("form") = "chunked", py::arg("feature_map") = "hedgehog",
             py::arg("bias_q") = py::none(), py::arg("bias_k") = py::none(), py::arg("sinks_mode_keys") = 8,
             R"(Hybrid attention of one layer (docs/algorithms.md sections 2-6).

q [B, H, T, d]; k, v [B, Hkv, T, d] (after RoPE, not expanded for grouped-query attention);
feature_map_q, feature_map_k [H, d, f] (None for elu1/relu); window_logits [H] (the window factor
is sigmoid(window_logits)); bias_q, bias_k [H, f] for t2r only. Returns [B, H, T, d] in q's dtype.
mode: hybrid, window, linear, sinks, none, overlap. layout: standard or terraced.
form: chunked (default; autograd works), reference (dense masks; autograd works) or recurrent
(one token at a time through the decode state; no gradient).)");
}

}  // namespace lincat::python
