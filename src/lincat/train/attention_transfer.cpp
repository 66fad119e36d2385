#include "lincat/train/attention_transfer.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "lincat/attention/chunked.h"
#include "lincat/attention/form_support.h"
#include "lincat/attention/key_sets.h"
#include "lincat/attention/softmax.h"
#include "lincat/model/layers.h"

namespace lincat::train {
namespace {

using attention::detail::build_mask;

// The masks of one block of query rows [start, start + rows) against all T keys.
struct BlockMasks {
  int64_t start = 0, rows = 0;
  at::Tensor teacher;  // [rows, T] causal (and the model's own sliding window)
  at::Tensor softmax;  // [rows, T] the student's window set W(i)
  at::Tensor linear;   // [rows, T] the student's linear set L(i)
};

std::vector<BlockMasks> block_masks(const ModelConfig& c, int64_t length, attention::Mode mode, int64_t block,
                                    const at::Device& device) {
  const attention::HybridConfig& h = *c.hybrid;
  std::vector<BlockMasks> blocks;
  for (int64_t start = 0; start < length; start += block) {
    BlockMasks m;
    m.start = start;
    m.rows = std::min(block, length - start);
    m.teacher = build_mask(m.rows, length, [&](int64_t r, int64_t j) {
      const int64_t i = start + r;
      return j <= i && (!c.sliding_window || i - j < *c.sliding_window);
    }, device);
    m.softmax = build_mask(m.rows, length, [&](int64_t r, int64_t j) { return attention::in_softmax_set(mode, start + r, j, h); }, device);
    m.linear = build_mask(m.rows, length, [&](int64_t r, int64_t j) { return attention::in_linear_set(mode, start + r, j, h); }, device);
    blocks.push_back(std::move(m));
  }
  return blocks;
}

// Soft cross-entropy between the teacher's softmax weights and the student's hybrid weights for
// one block of query rows, summed over rows. q [B, H, T, d] and keys [B, H, T, d] (GQA-expanded)
// carry no gradient; the student's features and gamma do.
at::Tensor attention_ce_block(const at::Tensor& q, const at::Tensor& keys, const attention::HybridLayerWeights& w,
                              const attention::HybridConfig& h, attention::Mode mode, const BlockMasks& m) {
  const double inv_sqrt_d = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  const double neg_inf = -std::numeric_limits<double>::infinity();
  const at::Tensor q_block = q.narrow(2, m.start, m.rows);                               // [B, H, r, d]
  const at::Tensor scores = at::matmul(q_block, keys.transpose(-1, -2)) * inv_sqrt_d;    // [B, H, r, T]
  const at::Tensor teacher = at::softmax(scores.masked_fill(~m.teacher, neg_inf), -1);   // [B, H, r, T]

  at::Tensor terms = at::zeros_like(scores);  // [B, H, r, T] unnormalised student weights
  if (attention::has_softmax_branch(mode)) {
    const at::Tensor windowed = scores.masked_fill(~m.softmax, neg_inf);
    terms = at::exp(windowed - windowed.amax(-1, true)) *
            attention::detail::softmax_branch_weight(w, mode, 2, scores.scalar_type());
  }
  const at::Tensor phi_q = attention::query_features(q_block, w, h);  // [B, H, r, F]
  const at::Tensor phi_k = attention::key_features(keys, w, h);       // [B, H, T, F]
  terms = terms + at::matmul(phi_q, phi_k.transpose(-1, -2)) * m.linear.to(scores.scalar_type());
  const at::Tensor student = terms / terms.sum(-1, true).clamp_min(attention::detail::kDenominatorFloor);
  return -(teacher * at::log(student.clamp_min(1e-12))).sum();
}

}  // namespace

TransferLosses transfer_losses(const Model& model, const at::Tensor& ids, attention::Mode mode,
                               const Stage1Settings& settings, double scale, bool backward,
                               int64_t first_layer, int64_t end_layer) {
  const ModelConfig& c = model.config;
  const attention::HybridConfig& h = *c.hybrid;
  const int64_t B = ids.size(0), T = ids.size(1), H = c.num_heads, L = c.num_layers;
  const std::vector<BlockMasks> blocks =
      settings.attention_weight_weight > 0 ? block_masks(c, T, mode, settings.query_block, model.device)
                                           : std::vector<BlockMasks>{};
  TransferLosses losses;
  // One teacher pass: each layer's q, k, v and softmax output feed the student's loss for that
  // layer and then the teacher's residual stream; the logits are never computed.
  at::Tensor stream = at::embedding(model.weights.embed_tokens, ids.to(model.device));  // [B, T, D]
  const int64_t end = end_layer < 0 ? L : std::min(end_layer, L);
  for (int64_t i = 0; i < end; ++i) {
    const LayerWeights& layer = model.weights.layers[static_cast<size_t>(i)];
    QueryKeyValue qkv;
    at::Tensor teacher_output;  // [B, H, T, d]
    {
      at::NoGradGuard no_grad;
      qkv = project_qkv(model, layer, rms_norm(stream, layer.input_norm, c.rms_norm_eps), 0);
      teacher_output = attention::softmax_attention(qkv.q, qkv.k, qkv.v, 0, 0, c.sliding_window);
    }
    const bool trains = i >= first_layer;
    if (trains && settings.output_mse_weight > 0) {
      const at::Tensor student = attention::chunked_attention(qkv.q, qkv.k, qkv.v, layer.hybrid, h, mode);
      const at::Tensor mse = 1000.0 * (student.to(at::kFloat) - teacher_output.to(at::kFloat)).pow(2).mean();
      losses.output_mse += mse.item<double>() / static_cast<double>(L);
      if (backward) (mse * (scale * settings.output_mse_weight / static_cast<double>(L))).backward();
    }
    if (trains && settings.attention_weight_weight > 0) {
      const at::Tensor q = qkv.q.to(at::kFloat);                                      // [B, H, T, d]
      const at::Tensor keys = attention::detail::expand_kv(qkv.k.to(at::kFloat), H);  // [B, H, T, d]
      const double rows = static_cast<double>(B * H * T * L);
      for (const BlockMasks& m : blocks) {
        const at::Tensor ce = attention_ce_block(q, keys, layer.hybrid, h, mode, m) / rows;
        losses.attention_ce += ce.item<double>();
        if (backward) (ce * (scale * settings.attention_weight_weight)).backward();
      }
    }
    if (i + 1 < end) {
      at::NoGradGuard no_grad;
      stream = stream + project_output(layer, teacher_output);
      stream = stream + mlp_block(layer, rms_norm(stream, layer.post_attention_norm, c.rms_norm_eps));
    }
  }
  losses.total = settings.output_mse_weight * losses.output_mse + settings.attention_weight_weight * losses.attention_ce;
  return losses;
}

}  // namespace lincat::train
