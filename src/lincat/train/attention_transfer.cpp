#include "lincat/train/attention_transfer.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "lincat/attention/form_support.h"
#include "lincat/attention/hybrid_attention.h"
#include "lincat/attention/key_sets.h"
#include "lincat/attention/window.h"
#include "lincat/model/decoder.h"

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
    m.teacher = build_mask(m.rows, length, [&](int64_t r, int64_t j) { return attention::teacher_sees(start + r, j, c.sliding_window); }, device);
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
  // One teacher pass (no graph): each layer's q, k, v and softmax output feed the student's loss
  // for that layer, then the teacher's residual stream; the logits are never computed.
  const bool records_graph = at::GradMode::is_enabled();
  const LayerAttention teacher = [&](int64_t layer, const QueryKeyValue& qkv) {
    return layer_attention(model, layer, qkv, 0, attention::Mode::Softmax, nullptr, nullptr);
  };
  const LayerObserver transfer = [&](int64_t i, const at::Tensor&, const QueryKeyValue& qkv,
                                    const at::Tensor& teacher_output) {  // [B, H, T, d]
    if (i < first_layer) return;
    at::AutoGradMode grad_mode(records_graph);
    const LayerWeights& layer = model.weights.layers[static_cast<size_t>(i)];
    if (settings.output_mse_weight > 0) {
      const at::Tensor student =
          attention::hybrid_attention(qkv.q, qkv.k, qkv.v, layer.hybrid, h, mode, attention::Form::Chunked);
      const at::Tensor mse = 1000.0 * (student.to(at::kFloat) - teacher_output.to(at::kFloat)).pow(2).mean();
      losses.output_mse += mse.item<double>() / static_cast<double>(L);
      if (backward) (mse * (scale * settings.output_mse_weight / static_cast<double>(L))).backward();
    }
    if (settings.attention_weight_weight > 0) {
      const at::Tensor q = qkv.q.to(at::kFloat);                                      // [B, H, T, d]
      const at::Tensor keys = attention::detail::expand_kv(qkv.k.to(at::kFloat), H);  // [B, H, T, d]
      const double rows = static_cast<double>(B * H * T * L);
      for (const BlockMasks& m : blocks) {
        const at::Tensor ce = attention_ce_block(q, keys, layer.hybrid, h, mode, m) / rows;
        losses.attention_ce += ce.item<double>();
        if (backward) (ce * (scale * settings.attention_weight_weight)).backward();
      }
    }
  };
  {
    at::NoGradGuard no_grad;
    run_layers(model, ids, 0, teacher, transfer, end_layer);
  }
  losses.total = settings.output_mse_weight * losses.output_mse + settings.attention_weight_weight * losses.attention_ce;
  return losses;
}

}  // namespace lincat::train
