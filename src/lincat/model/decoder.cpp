#include "lincat/model/decoder.h"

#include "lincat/attention/hybrid_attention.h"
#include "lincat/attention/recurrent.h"
#include "lincat/attention/softmax.h"
#include "lincat/model/decode_row.h"
#include "lincat/model/layers.h"
#include "lincat/model/model_memory.h"
#include "lincat/model/rope.h"
#include "lincat/util/error.h"

namespace lincat {
namespace {

// The original attention: q [B, H, T, d], k, v [B, Hkv, T, d] -> [B, H, T, d].
at::Tensor softmax_layer(const ModelConfig& c, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                         int64_t start, attention::KVCache* cache) {
  if (!cache) return attention::softmax_attention(q, k, v, start, start, c.sliding_window);
  cache->append(k, v, c.sliding_window);
  return attention::softmax_attention(q, cache->valid_keys(), cache->valid_values(), start, cache->first_position,
                                      c.sliding_window);
}

// A converted layer in any other mode: chunked form for whole sequences, recurrent form for
// tokens that continue a state (continue_state: the fused kernel token after token where it runs,
// else the chunked continuation; prefill included).
at::Tensor hybrid_layer(const attention::HybridConfig& h, const LayerWeights& w, const at::Tensor& q,
                        const at::Tensor& k, const at::Tensor& v, attention::Mode mode,
                        attention::HybridLayerState* state) {
  if (!state) return attention::hybrid_attention(q, k, v, w.hybrid, h, mode, attention::Form::Chunked);
  if (q.size(2) == 1 && !state->empty()) return attention::decode_step(q, k, v, w.hybrid, h, mode, *state);
  return attention::continue_state(q, k, v, w.hybrid, h, mode, *state);
}

}  // namespace

void check_token_ids(const Model& model, const std::vector<int64_t>& ids, const std::string& what) {
  const int64_t vocab = model.config.vocab_size;
  for (int64_t id : ids) {
    if (id < 0 || id >= vocab) {
      throw UserError(what + ": token id " + std::to_string(id) + " is outside the vocabulary (0.." +
                      std::to_string(vocab - 1) + ")");
    }
  }
}

void check_mode(const Model& model, attention::Mode mode) {
  if (mode != attention::Mode::Softmax && !model.config.hybrid) {
    throw UserError("attention mode " + attention::mode_name(mode) + " needs a converted model: " + model.directory +
                    " is an original checkpoint with softmax attention only; convert it first "
                    "(lincat convert-init)");
  }
}

at::Tensor layer_attention(const Model& model, int64_t layer, const QueryKeyValue& qkv, int64_t start,
                           attention::Mode mode, const attention::HybridConfig* hybrid, LayerDecodeState* state) {
  const ModelConfig& c = model.config;
  if (mode == attention::Mode::Softmax) {
    return softmax_layer(c, qkv.q, qkv.k, qkv.v, start, state ? &state->softmax : nullptr);
  }
  const attention::HybridConfig& h = hybrid ? *hybrid : c.hybrid.value();
  return hybrid_layer(h, model.weights.layers[static_cast<size_t>(layer)], qkv.q, qkv.k, qkv.v, mode,
                      state ? &state->hybrid : nullptr);
}

at::Tensor transformer_layer(const Model& model, int64_t layer, const at::Tensor& hidden, int64_t start,
                             const LayerAttention& attention, const LayerObserver& observer) {
  const ModelConfig& c = model.config;
  const LayerWeights& w = model.weights.layers[static_cast<size_t>(layer)];
  const QueryKeyValue qkv = project_qkv(model, w, rms_norm(hidden, w.input_norm, c.rms_norm_eps), start);
  const at::Tensor heads = attention(layer, qkv);  // [B, H, T, d]
  if (observer) observer(layer, hidden, qkv, heads);
  const at::Tensor h = hidden + project_output(w, heads);                        // [B, T, D]
  return h + mlp_block(w, rms_norm(h, w.post_attention_norm, c.rms_norm_eps));  // [B, T, D]
}

at::Tensor run_layers(const Model& model, const at::Tensor& ids, int64_t start, const LayerAttention& attention,
                      const LayerObserver& observer, int64_t layers) {
  const int64_t L = model.config.num_layers;
  const int64_t end = layers < 0 ? L : std::min(layers, L);
  at::Tensor h = at::embedding(model.weights.embed_tokens, ids.to(model.device));  // [B, T, D]
  for (int64_t i = 0; i < end; ++i) h = transformer_layer(model, i, h, start, attention, observer);
  return h;
}

at::Tensor output_logits(const Model& model, const at::Tensor& hidden) {
  const ModelWeights& w = model.weights;
  return project(rms_norm(hidden, w.final_norm, model.config.rms_norm_eps), w.lm_head).to(at::kFloat);  // [B, T, V]
}

LayerAttention attention_in(const Model& model, attention::Mode mode, DecodeState* state) {
  const int64_t start = state ? state->position : 0;
  return [&model, mode, state, start](int64_t layer, const QueryKeyValue& qkv) {
    LayerDecodeState* layer_state = state ? &state->layers[static_cast<size_t>(layer)] : nullptr;
    return layer_attention(model, layer, qkv, start, mode, nullptr, layer_state);
  };
}

at::Tensor forward_layers(const Model& model, const at::Tensor& ids, attention::Mode mode, DecodeState* state,
                          const LayerObserver& observer) {
  if (!observer && state && state->mode == mode && decode_row_applies(model, ids, state)) {
    check_mode(model, mode);
    return decode_row(model, ids.item<int64_t>(), *state);
  }
  return detail::forward_with_operators(model, ids, mode, state, observer);
}

namespace detail {

at::Tensor forward_with_operators(const Model& model, const at::Tensor& ids, attention::Mode mode, DecodeState* state,
                                  const LayerObserver& observer) {
  check_mode(model, mode);
  if (model.device.is_cpu()) check_forward_fits(model.config, ids.size(0), ids.size(1), mode == attention::Mode::Softmax);
  const int64_t start = state ? state->position : 0;
  const at::Tensor h = run_layers(model, ids, start, attention_in(model, mode, state), observer);  // [B, T, D]
  if (state) state->position += ids.size(1);
  return output_logits(model, h);
}

}  // namespace detail

at::Tensor forward(const Model& model, const at::Tensor& ids, attention::Mode mode) {
  return forward_layers(model, ids, mode, nullptr);
}

at::Tensor forward(const Model& model, const at::Tensor& ids, DecodeState& state) {
  return forward_layers(model, ids, state.mode, &state);
}

at::Tensor forward(const Model& model, const at::Tensor& ids) {
  return forward_layers(model, ids, model.config.default_mode, nullptr);
}

}  // namespace lincat
