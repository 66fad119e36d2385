#include "lincat/model/decoder.h"

#include "lincat/attention/softmax.h"
#include "lincat/model/rope.h"
#include "lincat/util/error.h"

namespace lincat {
namespace {

// x [B, T, D] -> [B, T, D]. Normalised in float32, then scaled in the model dtype (as transformers).
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  const at::Tensor x32 = x.to(at::kFloat);
  const at::Tensor normalised = x32 * at::rsqrt(x32.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return weight * normalised.to(x.scalar_type());
}

// x [B, T, D] -> attention output [B, T, D].
at::Tensor attention_block(const Model& model, const LayerWeights& w, const at::Tensor& x,
                           int64_t start, LayerDecodeState* state) {
  const ModelConfig& c = model.config;
  const int64_t B = x.size(0), T = x.size(1), H = c.num_heads, Hkv = c.num_kv_heads, d = c.head_dim;
  at::Tensor q = at::linear(x, w.q_proj).view({B, T, H, d}).transpose(1, 2);    // [B, H, T, d]
  at::Tensor k = at::linear(x, w.k_proj).view({B, T, Hkv, d}).transpose(1, 2);  // [B, Hkv, T, d]
  at::Tensor v = at::linear(x, w.v_proj).view({B, T, Hkv, d}).transpose(1, 2);  // [B, Hkv, T, d]
  q = rope::apply(q, model.inverse_frequencies, start).contiguous();
  k = rope::apply(k, model.inverse_frequencies, start);

  at::Tensor y;  // [B, H, T, d]
  if (state) {
    state->softmax.append(k, v, c.sliding_window);
    y = attention::softmax_attention(q, state->softmax.valid_keys(), state->softmax.valid_values(), start,
                                     state->softmax.first_position, c.sliding_window);
  } else {
    y = attention::softmax_attention(q, k, v, start, start, c.sliding_window);
  }
  return at::linear(y.transpose(1, 2).reshape({B, T, H * d}), w.o_proj);  // [B, T, D]
}

// x [B, T, D] -> [B, T, D]: down(silu(gate(x)) * up(x)).
at::Tensor mlp_block(const LayerWeights& w, const at::Tensor& x) {
  return at::linear(at::silu(at::linear(x, w.gate_proj)) * at::linear(x, w.up_proj), w.down_proj);
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

at::Tensor forward(const Model& model, const at::Tensor& ids, DecodeState* state) {
  const ModelConfig& c = model.config;
  const ModelWeights& w = model.weights;
  const int64_t start = state ? state->position : 0;
  at::Tensor h = at::embedding(w.embed_tokens, ids.to(model.device));  // [B, T, D]
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const LayerWeights& layer = w.layers[static_cast<size_t>(i)];
    LayerDecodeState* layer_state = state ? &state->layers[static_cast<size_t>(i)] : nullptr;
    h = h + attention_block(model, layer, rms_norm(h, layer.input_norm, c.rms_norm_eps), start, layer_state);
    h = h + mlp_block(layer, rms_norm(h, layer.post_attention_norm, c.rms_norm_eps));
  }
  if (state) state->position += ids.size(1);
  return at::linear(rms_norm(h, w.final_norm, c.rms_norm_eps), w.lm_head).to(at::kFloat);  // [B, T, V]
}

}  // namespace lincat
