#include "lincat/attention/chunked.h"

#include <cmath>
#include <limits>
#include <utility>

#include "lincat/attention/form_support.h"
#include "lincat/attention/key_sets.h"

// Layout of the computation. Positions are cut into chunks of C = w (the last one zero-padded).
// Since C = w, query i of chunk b has W(i) (apart from sinks) inside chunks b-1 and b, for both
// layouts: the window branch is one dense [C x 2C] block per chunk, plus a [C x s] block for sink
// keys older than chunk b-1. The linear branch is a masked [C x C] block (hybrid: chunk b-1, keys
// j <= i - w; linear/overlap: chunk b, causal) plus the prefix states S and z of every older
// chunk, read from a cumulative sum of per-chunk states. The masks come from the key sets of
// key_sets.h, so which keys enter which branch is decided in one place.

namespace lincat::attention {
namespace {

// Numerator [B, H, nc, C, d] and normaliser [B, H, nc, C] of one branch, per chunk.
struct BranchTerms {
  at::Tensor numerator;
  at::Tensor normaliser;
};

// [B, H, T, e] -> [B, H, padded, e], zero rows appended.
at::Tensor pad_time(const at::Tensor& x, int64_t padded) {
  return at::constant_pad_nd(x, {0, 0, 0, padded - x.size(2)});
}

// [B, H, nc * C, e] -> [B, H, nc, C, e]
at::Tensor split_chunks(const at::Tensor& x, int64_t chunk) {
  return x.view({x.size(0), x.size(1), x.size(2) / chunk, chunk, x.size(3)});
}

// [B, H, nc, C, e] -> [B, H, nc, C, e] where chunk b holds chunk b - lag (zeros before chunk 0).
at::Tensor lagged_chunks(const at::Tensor& chunks, int64_t lag) {
  if (lag == 0) return chunks;
  const int64_t count = chunks.size(2);
  if (count <= lag) return at::zeros_like(chunks);
  return at::cat({at::zeros_like(chunks.narrow(2, 0, lag)), chunks.narrow(2, 0, count - lag)}, 2);
}

// Window (or sinks-mode) branch: sum over the softmax set of exp(s_ij - c_i) v_j and of
// exp(s_ij - c_i), with c_i the maximum over that set only.
// scaled_queries, keys, values: [B, H, padded, d] (queries already divided by sqrt(d)).
BranchTerms softmax_terms(const at::Tensor& scaled_queries, const at::Tensor& keys,
                          const at::Tensor& values, const HybridConfig& config, Mode mode,
                          int64_t length) {
  const int64_t batch = keys.size(0), heads = keys.size(1), padded = keys.size(2);
  const int64_t head_dim = keys.size(3), chunk = config.window, count = padded / chunk;
  const double minus_infinity = -std::numeric_limits<double>::infinity();
  const bool uses_block = mode != Mode::Sinks;  // the sinks mode has no window, only sink keys

  at::Tensor block_scores;  // [B, H, nc, C, 2C], keys of chunks b-1 and b
  at::Tensor block_values;  // [B, H, nc, 2C, d]
  if (uses_block) {
    const at::Tensor key_chunks = split_chunks(keys, chunk);      // [B, H, nc, C, d]
    const at::Tensor value_chunks = split_chunks(values, chunk);  // [B, H, nc, C, d]
    const at::Tensor key_pairs = at::cat({lagged_chunks(key_chunks, 1), key_chunks}, 3);
    block_values = at::cat({lagged_chunks(value_chunks, 1), value_chunks}, 3);
    const at::Tensor mask =  // [nc, C, 2C]
        detail::build_mask(padded, 2 * chunk,
                           [&](int64_t i, int64_t c) {
                             return in_softmax_set(mode, i, (i / chunk - 1) * chunk + c, config);
                           },
                           keys.device())
            .view({count, chunk, 2 * chunk});
    block_scores = at::matmul(split_chunks(scaled_queries, chunk), key_pairs.transpose(-1, -2))
                       .masked_fill(~mask, minus_infinity);
  }

  // Sink keys the block does not cover: older than chunk b-1, or all of them in the sinks mode.
  at::Tensor sink_scores;  // [B, H, padded, s]
  at::Tensor sink_values;  // [B, H, s, d]
  const int64_t sinks = std::min<int64_t>(sink_count(mode, config), length);
  if (sinks > 0) {
    const at::Tensor mask = detail::build_mask(  // [padded, s]
        padded, sinks,
        [&](int64_t i, int64_t j) {
          const bool in_block = uses_block && j >= (i / chunk - 1) * chunk;
          return in_softmax_set(mode, i, j, config) && !in_block;
        },
        keys.device());
    if (mask.any().item<bool>()) {
      sink_values = values.narrow(2, 0, sinks);
      sink_scores = at::matmul(scaled_queries, keys.narrow(2, 0, sinks).transpose(-1, -2))
                        .masked_fill(~mask, minus_infinity);
    }
  }

  at::Tensor row_max;  // [B, H, nc, C, 1], c_i
  if (block_scores.defined()) row_max = block_scores.amax(-1, true);
  if (sink_scores.defined()) {
    const at::Tensor sink_max = sink_scores.amax(-1, true).view({batch, heads, count, chunk, 1});
    row_max = row_max.defined() ? at::maximum(row_max, sink_max) : sink_max;
  }

  BranchTerms terms;
  if (block_scores.defined()) {
    const at::Tensor weights = at::exp(block_scores - row_max);  // [B, H, nc, C, 2C]
    terms.numerator = at::matmul(weights, block_values);         // [B, H, nc, C, d]
    terms.normaliser = weights.sum(-1);                          // [B, H, nc, C]
  }
  if (sink_scores.defined()) {
    const at::Tensor weights =  // [B, H, padded, s]
        at::exp(sink_scores - row_max.view({batch, heads, padded, 1}));
    const at::Tensor numerator =  // [B, H, nc, C, d]
        at::matmul(weights, sink_values).view({batch, heads, count, chunk, head_dim});
    const at::Tensor normaliser = weights.sum(-1).view({batch, heads, count, chunk});
    terms.numerator = terms.numerator.defined() ? terms.numerator + numerator : numerator;
    terms.normaliser = terms.normaliser.defined() ? terms.normaliser + normaliser : normaliser;
  }
  return terms;
}

// Linear terms of each chunk's queries against every key of chunks <= b - lag:
// phi_q(Q_b) S_{b-lag} and phi_q(Q_b) z_{b-lag}, with S_b = sum_{b' <= b} phi_k(K_b')^T V_b'.
// phi_q, phi_k [B, H, nc, C, F] (keys outside the linear set zeroed), values [B, H, nc, C, d].
BranchTerms prefix_terms(const at::Tensor& phi_q, const at::Tensor& phi_k,
                         const at::Tensor& values, int64_t lag) {
  const int64_t batch = values.size(0), heads = values.size(1), count = values.size(2);
  const int64_t chunk = values.size(3), head_dim = values.size(4);
  BranchTerms terms{at::zeros_like(values), at::zeros({batch, heads, count, chunk}, values.options())};
  if (count <= lag) return terms;
  const int64_t used = count - lag;  // chunks whose state some later chunk reads
  const at::Tensor used_keys = phi_k.narrow(2, 0, used);  // [B, H, used, C, F]
  const at::Tensor states =                                // [B, H, used, F, d], S_b
      at::matmul(used_keys.transpose(-1, -2), values.narrow(2, 0, used)).cumsum(2);
  const at::Tensor normalisers = used_keys.sum(3).cumsum(2);     // [B, H, used, F], z_b
  const at::Tensor late_queries = phi_q.narrow(2, lag, used);    // [B, H, used, C, F]
  const at::Tensor numerator = at::matmul(late_queries, states);  // [B, H, used, C, d]
  const at::Tensor normaliser =                                   // [B, H, used, C]
      at::matmul(late_queries, normalisers.unsqueeze(-1)).squeeze(-1);
  const at::Tensor leading = at::zeros({batch, heads, lag, chunk, head_dim}, values.options());
  terms.numerator = at::cat({leading, numerator}, 2);
  terms.normaliser = at::cat({leading.select(-1, 0), normaliser}, 2);
  return terms;
}

// Linear branch: sum over L(i) (hybrid) or all j <= i (linear, overlap) of
// (phi_q(q_i) . phi_k(k_j)) v_j and of phi_q(q_i) . phi_k(k_j). Inputs [B, H, padded, d].
BranchTerms linear_terms(const at::Tensor& queries, const at::Tensor& keys, const at::Tensor& values,
                         const HybridLayerWeights& weights, const HybridConfig& config, Mode mode) {
  const int64_t padded = keys.size(2), chunk = config.window, count = padded / chunk;
  // Hybrid: chunk b lies inside W(i), chunk b-1 straddles its edge, older chunks are outside it
  // (apart from sinks). Linear and overlap: chunk b is causal, older chunks are wholly included.
  const int64_t block_lag = mode == Mode::Hybrid ? 1 : 0;
  const int64_t prefix_lag = block_lag + 1;

  const at::Tensor phi_q = split_chunks(query_features(queries, weights, config), chunk);
  const at::Tensor phi_k = key_features(keys, weights, config);  // [B, H, padded, F]
  const at::Tensor value_chunks = split_chunks(values, chunk);   // [B, H, nc, C, d]

  // Whether key j is in the linear set of the queries whose prefix holds it: the same for all of
  // them (only sinks are left out in the hybrid mode), so evaluate it at the first such query.
  const at::Tensor prefix_keys =  // [1, padded] -> [1, 1, padded, 1]
      detail::build_mask(1, padded,
                         [&](int64_t, int64_t j) {
                           return in_linear_set(mode, (j / chunk + prefix_lag) * chunk, j, config);
                         },
                         keys.device())
          .to(phi_k.scalar_type())
          .view({1, 1, padded, 1});
  BranchTerms terms = prefix_terms(phi_q, split_chunks(phi_k * prefix_keys, chunk), value_chunks,
                                   prefix_lag);

  const at::Tensor block_mask =  // [nc, C, C]
      detail::build_mask(padded, chunk,
                         [&](int64_t i, int64_t c) {
                           return in_linear_set(mode, i, (i / chunk - block_lag) * chunk + c, config);
                         },
                         keys.device())
          .to(phi_k.scalar_type())
          .view({count, chunk, chunk});
  const at::Tensor block_keys = lagged_chunks(split_chunks(phi_k, chunk), block_lag);  // [B, H, nc, C, F]
  const at::Tensor block_scores =  // [B, H, nc, C, C]
      at::matmul(phi_q, block_keys.transpose(-1, -2)) * block_mask;
  terms.numerator = terms.numerator + at::matmul(block_scores, lagged_chunks(value_chunks, block_lag));
  terms.normaliser = terms.normaliser + block_scores.sum(-1);
  return terms;
}

}  // namespace

at::Tensor chunked_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                             const HybridLayerWeights& weights, const HybridConfig& config,
                             Mode mode) {
  require_hybrid_mode(mode);
  validate(config);
  detail::check_inputs(q, k, v, weights, config);
  if (mode == Mode::None) return at::zeros_like(q);
  const at::ScalarType dtype = detail::compute_dtype(q);
  const int64_t batch = q.size(0), heads = q.size(1), length = q.size(2), head_dim = q.size(3);
  const int64_t chunk = config.window;
  const int64_t padded = (length + chunk - 1) / chunk * chunk;

  const at::Tensor queries = pad_time(q.to(dtype), padded);                             // [B, H, padded, d]
  const at::Tensor keys = pad_time(detail::expand_kv(k.to(dtype), heads), padded);      // [B, H, padded, d]
  const at::Tensor values = pad_time(detail::expand_kv(v.to(dtype), heads), padded);    // [B, H, padded, d]

  at::Tensor numerator;   // [B, H, nc, C, d]
  at::Tensor normaliser;  // [B, H, nc, C]
  if (has_softmax_branch(mode)) {
    const BranchTerms soft = softmax_terms(
        queries / std::sqrt(static_cast<double>(head_dim)), keys, values, config, mode, length);
    const at::Tensor gamma = detail::softmax_branch_weight(weights, mode, 2, dtype);  // [1, H, 1, 1]
    numerator = soft.numerator * gamma.unsqueeze(-1);
    normaliser = soft.normaliser * gamma;
  }
  if (has_linear_branch(mode)) {
    const BranchTerms linear = linear_terms(queries, keys, values, weights, config, mode);
    numerator = numerator.defined() ? numerator + linear.numerator : linear.numerator;
    normaliser = normaliser.defined() ? normaliser + linear.normaliser : linear.normaliser;
  }
  return detail::divide_by_normaliser(numerator, normaliser)  // [B, H, nc, C, d]
      .view({batch, heads, padded, head_dim})
      .narrow(2, 0, length)
      .to(q.scalar_type())
      .contiguous();
}

}  // namespace lincat::attention
