#include "lincat/model/decoder.h"

#include "lincat/attention/hybrid_attention.h"
#include "lincat/attention/recurrent.h"
#include "lincat/attention/softmax.h"
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

// A converted layer in any other mode: chunked form for whole sequences and for blocks of tokens
// that continue a state (prefill included), recurrent form for single tokens that continue one.
at::Tensor hybrid_layer(const ModelConfig& c, const LayerWeights& w, const at::Tensor& q, const at::Tensor& k,
                        const at::Tensor& v, attention::Mode mode, attention::HybridLayerState* state) {
  const attention::HybridConfig& h = *c.hybrid;
  if (!state) return attention::hybrid_attention(q, k, v, w.hybrid, h, mode, attention::Form::Chunked);
  if (q.size(2) == 1 && !state->empty()) return attention::decode_step(q, k, v, w.hybrid, h, mode, *state);
  return attention::continue_chunked(q, k, v, w.hybrid, h, mode, *state);
}

// x [B, T, D] -> attention output [B, T, D].
at::Tensor attention_block(const Model& model, const LayerWeights& w, const at::Tensor& x, int64_t start,
                           attention::Mode mode, LayerDecodeState* state) {
  const auto [q, k, v] = project_qkv(model, w, x, start);
  const at::Tensor y = mode == attention::Mode::Softmax  // [B, H, T, d]
                           ? softmax_layer(model.config, q, k, v, start, state ? &state->softmax : nullptr)
                           : hybrid_layer(model.config, w, q, k, v, mode, state ? &state->hybrid : nullptr);
  return project_output(w, y);
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
    throw UserError("--attention " + attention::mode_name(mode) + ": " + model.directory +
                    " is an original checkpoint with softmax attention only; convert it first "
                    "(lincat convert-init)");
  }
}

at::Tensor forward_layers(const Model& model, const at::Tensor& ids, attention::Mode mode, DecodeState* state,
                          std::vector<at::Tensor>* residuals) {
  check_mode(model, mode);
  const ModelConfig& c = model.config;
  if (model.device.is_cpu()) check_forward_fits(c, ids.size(0), ids.size(1), mode == attention::Mode::Softmax);
  const ModelWeights& w = model.weights;
  const int64_t start = state ? state->position : 0;
  at::Tensor h = at::embedding(w.embed_tokens, ids.to(model.device));  // [B, T, D]
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const LayerWeights& layer = w.layers[static_cast<size_t>(i)];
    LayerDecodeState* layer_state = state ? &state->layers[static_cast<size_t>(i)] : nullptr;
    if (residuals) residuals->push_back(h);
    h = h + attention_block(model, layer, rms_norm(h, layer.input_norm, c.rms_norm_eps), start, mode, layer_state);
    h = h + mlp_block(layer, rms_norm(h, layer.post_attention_norm, c.rms_norm_eps));
  }
  if (residuals) residuals->push_back(h);
  if (state) state->position += ids.size(1);
  return at::linear(rms_norm(h, w.final_norm, c.rms_norm_eps), w.lm_head).to(at::kFloat);  // [B, T, V]
}

at::Tensor forward(const Model& model, const at::Tensor& ids, attention::Mode mode) {
  return forward_layers(model, ids, mode, nullptr, nullptr);
}

at::Tensor forward(const Model& model, const at::Tensor& ids, DecodeState& state) {
  return forward_layers(model, ids, state.mode, &state, nullptr);
}

at::Tensor forward(const Model& model, const at::Tensor& ids) {
  return forward_layers(model, ids, model.config.default_mode, nullptr, nullptr);
}

}  // namespace lincat
