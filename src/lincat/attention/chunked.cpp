#include "lincat/attention/chunked.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "lincat/attention/chunked_kernel.h"
#include "lincat/attention/form_support.h"
#include "lincat/attention/key_sets.h"

// Layout of the computation. Positions are cut into chunks of C = w (the last one zero-padded).
// Since C = w, query i of chunk b has W(i) (apart from sinks) inside chunks b-1 and b, for both
// layouts: the window branch is one dense [C x 2C] block per chunk, plus a [C x s] block for sink
// keys older than chunk b-1. The linear branch is a masked [C x C] block (hybrid: chunk b-1, keys
// j <= i - w; linear/overlap: chunk b, causal), added into the same [C x 2C] weights, plus the
// prefix states S and z of every older chunk, read from a cumulative sum of per-chunk states.
// The masks come from the key sets of key_sets.h: which keys enter which branch is decided there.
//
// A continuation (ChunkedHistory) shifts every position by the offset of row 0, reads sink keys the
// rows no longer hold from the history, leaves out of the linear terms the keys its initial state
// already holds, and adds phi_q(Q) [S z] of that state to every row.
//
// Values carry an extra column of ones, so each product with them yields the numerator (first d
// columns) and the normaliser (last column) at once; S and z are likewise one [F x (d+1)] state.

namespace lincat::attention {
namespace {

// [B, H, T, e] -> [B, H, padded, e], zero rows appended.
at::Tensor pad_time(const at::Tensor& x, int64_t padded) {
  return at::constant_pad_nd(x, {0, 0, 0, padded - x.size(2)});
}

// [B, H, nc * C, e] -> [B, H, nc, C, e]
at::Tensor split_chunks(const at::Tensor& x, int64_t chunk) {
  return x.view({x.size(0), x.size(1), x.size(2) / chunk, chunk, x.size(3)});
}

// The chunks of several heads side by side, for products over chunk b and the chunk before it
// without copying the earlier chunk next to each: x [B, H, P, e] (P a multiple of C) flattened
// to M = B H P / C chunks of rows, with C zero rows in front. The chunk before chunk m is then
// the C rows before it, and chunks m - 1 and m are one window of 2C rows: views of one padded copy.
// The chunk before a head's first is the previous head's last (the zeros for the first head):
// every mask leaves out the keys before row 0, so their weights are exactly zero.
class ChunkRows {
 public:
  ChunkRows(const at::Tensor& x, int64_t chunk)
      : chunk_(chunk), count_(x.numel() / x.size(-1) / chunk),
        rows_(at::constant_pad_nd(x.reshape({-1, x.size(-1)}), {0, 0, chunk, 0})) {}  // [C + M C, e]

  at::Tensor previous() const { return rows_.narrow(0, 0, count_ * chunk_).view({count_, chunk_, -1}); }      // [M, C, e]
  // Chunks m - 1 and m, transposed: [M, e, 2C].
  at::Tensor pairs_transposed() const { return rows_.unfold(0, 2 * chunk_, chunk_); }

 private:
  int64_t chunk_, count_;
  at::Tensor rows_;
};

// [B, H, nc, C, e] -> [B H nc, C, e]
at::Tensor flat_chunks(const at::Tensor& x) { return x.reshape({-1, x.size(-2), x.size(-1)}); }

// [B, H, nc, C, e] -> [B H nc, C, e] where chunk b holds chunk b - lag (lag 0 or 1; see ChunkRows
// for what lag 1 puts before a head's first chunk).
at::Tensor lagged_chunks(const at::Tensor& chunks, int64_t lag) {
  TORCH_CHECK(lag == 0 || lag == 1, "chunk lag ", lag, " (0 or 1)");
  return lag == 0 ? flat_chunks(chunks) : ChunkRows(chunks, chunks.size(-2)).previous();
}

// Inputs of one call, padded to whole chunks. Values carry the column of ones.
struct Chunks {
  at::Tensor queries;        // [B, H, padded, d]
  at::Tensor keys;           // [B, H, padded, d]
  at::Tensor values;         // [B, H, padded, d + 1]
  int64_t length;            // T before padding
  int64_t chunk;             // C = w
  int64_t count;             // nc
  int64_t offset = 0;        // position of row 0 (a multiple of C)
  int64_t state_query = -1;  // the history's linear state holds L(state_query)
};

// Does the linear branch of query i take key j from the rows (both positions absolute): j is in
// L(i) and not already in the history's linear state.
bool row_linear_key(const Chunks& in, Mode mode, int64_t i, int64_t j, const HybridConfig& config) {
  return in_linear_set(mode, i, j, config) && !in_linear_set(mode, in.state_query, j, config);
}

// The masks of the form: which keys of the [C x 2C], [C x s], [C x C] blocks and of the prefix
// states enter which branch.
enum class MaskKind { Pairs, Sinks, Block, Prefix };

// A whole sequence's masks depend only on the kind, the mode, the config and the padded length:
// each is built once and kept, since training and prefill call the form with the same shapes again
// and again. A continuation's depend on its history too; they are small and built every time.
at::Tensor chunk_mask(const Chunks& in, MaskKind kind, Mode mode, const HybridConfig& config,
                      int64_t lag, int64_t rows, int64_t cols,
                      const std::function<bool(int64_t, int64_t)>& include, const at::Device& device) {
  if (in.offset != 0 || in.state_query >= 0) return detail::build_mask(rows, cols, include, device);
  using Key = std::tuple<int, int, int, int, int, int, int64_t, int64_t, int64_t, std::string>;
  const Key key{static_cast<int>(kind), static_cast<int>(mode), config.window,
                static_cast<int>(config.layout), config.sinks, config.sinks_mode_keys, lag, rows, cols,
                device.str()};
  constexpr int64_t kMaxCachedBytes = 256 << 20;
  static std::mutex mutex;
  static std::map<Key, at::Tensor> cache;
  static int64_t cached_bytes = 0;
  {
    const std::lock_guard<std::mutex> lock(mutex);
    const auto found = cache.find(key);
    if (found != cache.end()) return found->second;
  }
  const at::Tensor mask = detail::build_mask(rows, cols, include, device);
  const std::lock_guard<std::mutex> lock(mutex);
  if (cached_bytes + mask.numel() > kMaxCachedBytes) {
    cache.clear();
    cached_bytes = 0;
  }
  if (cache.emplace(key, mask).second) cached_bytes += mask.numel();
  return mask;
}

// Softmax branch weights, gamma * exp(s_ij - c_i) over the softmax set (zero elsewhere), with
// c_i the maximum of s_ij over that set only.
struct SoftmaxWeights {
  at::Tensor pairs;  // [B, H, nc, C, 2C] keys of chunks b-1 and b; undefined in the sinks mode
  at::Tensor sinks;  // [B, H, padded, s] sink keys the pairs do not cover; undefined if none
  int64_t sink_count = 0;
};

SoftmaxWeights softmax_weights(const Chunks& in, const at::Tensor& history_sink_keys,
                               const HybridLayerWeights& weights, const HybridConfig& config,
                               Mode mode) {
  const int64_t batch = in.keys.size(0), heads = in.keys.size(1), padded = in.keys.size(2);
  const int64_t chunk = in.chunk, count = in.count, offset = in.offset;
  const double minus_infinity = -std::numeric_limits<double>::infinity();
  const at::Tensor scaled_queries =  // [B, H, padded, d]
      in.queries / std::sqrt(static_cast<double>(in.queries.size(3)));
  const bool uses_pairs = mode != Mode::Sinks;  // the sinks mode has no window, only sink keys

  at::Tensor pair_scores;  // [B, H, nc, C, 2C]
  if (uses_pairs) {
    const at::Tensor mask =  // [nc, C, 2C]
        chunk_mask(in, MaskKind::Pairs, mode, config, 1, padded, 2 * chunk,
                   [&](int64_t i, int64_t c) {
                     const int64_t key = offset + (i / chunk - 1) * chunk + c;  // the rows hold none before row 0
                     return key >= offset && in_softmax_set(mode, offset + i, key, config);
                   },
                   in.keys.device())
            .view({count, chunk, 2 * chunk});
    const at::Tensor key_pairs = ChunkRows(in.keys, chunk).pairs_transposed();  // [B H nc, d, 2C]
    pair_scores = at::bmm(flat_chunks(split_chunks(scaled_queries, chunk)), key_pairs)
                      .view({batch, heads, count, chunk, 2 * chunk})
                      .masked_fill(~mask, minus_infinity);
  }

  // Sink keys the pairs do not cover: older than chunk b-1, or all of them in the sinks mode.
  SoftmaxWeights result;
  at::Tensor sink_scores;  // [B, H, padded, s]
  const int64_t sinks =
      history_sink_keys.defined()
          ? history_sink_keys.size(2)
          : std::min<int64_t>(sink_count(mode, config), in.length);
  if (sinks > 0) {
    const at::Tensor mask = chunk_mask(  // [padded, s]
        in, MaskKind::Sinks, mode, config, 0, padded, sinks,
        [&](int64_t i, int64_t j) {
          const bool in_pairs = uses_pairs && j >= offset + (i / chunk - 1) * chunk;
          return in_softmax_set(mode, offset + i, j, config) && !in_pairs;
        },
        in.keys.device());
    if (mask.any().item<bool>()) {
      result.sink_count = sinks;
      const at::Tensor sink_keys =  // [B, H, s, d]
          history_sink_keys.defined() ? history_sink_keys : in.keys.narrow(2, 0, sinks);
      sink_scores = at::matmul(scaled_queries, sink_keys.transpose(-1, -2))
                        .masked_fill(~mask, minus_infinity);
    }
  }

  at::Tensor row_max;  // [B, H, nc, C, 1], c_i
  if (pair_scores.defined()) row_max = std::get<0>(pair_scores.max(-1, true));
  if (sink_scores.defined()) {
    const at::Tensor sink_max = std::get<0>(sink_scores.max(-1, true)).view({batch, heads, count, chunk, 1});
    row_max = row_max.defined() ? at::maximum(row_max, sink_max) : sink_max;
  }
  const bool mixed = softmax_branch_is_mixed(mode);
  const at::Tensor gamma = detail::softmax_branch_weight(weights, mode, 3, in.keys.scalar_type());
  if (pair_scores.defined()) {
    result.pairs = at::exp(pair_scores - row_max);
    if (mixed) result.pairs = result.pairs * gamma;  // [1, H, 1, 1, 1]
  }
  if (sink_scores.defined()) {
    result.sinks = at::exp(sink_scores - row_max.view({batch, heads, padded, 1}));
    if (mixed) result.sinks = result.sinks * gamma.squeeze(-1);  // [1, H, 1, 1]
  }
  return result;
}

// Linear weights phi_q(q_i) . phi_k(k_j) of the [C x C] block: keys of chunk b - lag in L(i).
at::Tensor linear_block_weights(const at::Tensor& phi_q, const at::Tensor& phi_k, const Chunks& in,
                                int64_t lag, const HybridConfig& config, Mode mode) {
  const int64_t count = phi_q.size(2), chunk = phi_q.size(3), padded = count * chunk;
  const int64_t offset = in.offset;
  const at::Tensor mask =  // [nc, C, C]
      chunk_mask(in, MaskKind::Block, mode, config, lag, padded, chunk,
                 [&](int64_t i, int64_t c) {
                   const int64_t key = offset + (i / chunk - lag) * chunk + c;  // the rows hold none before row 0
                   return key >= offset && row_linear_key(in, mode, offset + i, key, config);
                 },
                 phi_q.device())
          .to(phi_q.scalar_type())
          .view({count, chunk, chunk});
  const at::Tensor keys = lagged_chunks(phi_k, lag);  // [B H nc, C, F]
  return at::bmm(flat_chunks(phi_q), keys.transpose(1, 2)).view({phi_q.size(0), phi_q.size(1), count, chunk, chunk}) *
         mask;  // [B, H, nc, C, C]
}

// Adds phi_q(Q_b) [S_{b-lag} z_{b-lag}] to sums [B, H, nc, C, d+1] in place, where
// [S_b z_b] = sum_{b' <= b} phi_k(K_b')^T [V_b' 1] over keys in the linear set of those queries,
// plus the history's initial state [B, H, F, d+1] (if defined) to every chunk.
void add_prefix_terms(at::Tensor& sums, const at::Tensor& phi_q, const at::Tensor& phi_k,
                      const Chunks& in, const at::Tensor& initial_state, int64_t lag,
                      const HybridConfig& config, Mode mode) {
  const int64_t batch = phi_k.size(0), heads = phi_k.size(1), count = in.count, chunk = in.chunk;
  if (initial_state.defined()) sums.add_(at::matmul(phi_q, initial_state.unsqueeze(2)));
  if (count <= lag) return;
  const int64_t used = count - lag;  // chunks whose state some later chunk reads
  // Key j is in the linear set of every query whose prefix holds it, or of none (only sinks are
  // left out, in the hybrid mode): evaluate the set at the first such query.
  const at::Tensor prefix_keys =  // [used * C] -> [1, 1, used, C, 1]
      chunk_mask(in, MaskKind::Prefix, mode, config, lag, 1, used * chunk,
                 [&](int64_t, int64_t j) {
                   return row_linear_key(in, mode, in.offset + (j / chunk + lag) * chunk,
                                         in.offset + j, config);
                 },
                 phi_k.device())
          .to(phi_k.scalar_type())
          .view({1, 1, used, chunk, 1});
  const at::Tensor keys = phi_k.narrow(2, 0, used) * prefix_keys;              // [B, H, used, C, F]
  const at::Tensor values = split_chunks(in.values, chunk).narrow(2, 0, used);  // [B, H, used, C, d+1]
  const at::Tensor chunk_states = at::matmul(keys.transpose(-1, -2), values);   // [B, H, used, F, d+1]
  // cumsum over a 4-d view: libtorch's CPU cumsum is several times faster with one long inner dim.
  const at::Tensor states =  // [B, H, used, F, d+1]
      chunk_states.view({batch, heads, used, -1}).cumsum(2).view(chunk_states.sizes());
  sums.narrow(2, lag, used).add_(at::matmul(phi_q.narrow(2, lag, used), states));
}

// The chunked form over all heads of q at once (inputs already checked).
at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                  const HybridLayerWeights& weights, const HybridConfig& config, Mode mode,
                  const ChunkedHistory& history) {
  const at::ScalarType dtype = detail::compute_dtype(q);
  const int64_t batch = q.size(0), heads = q.size(1), length = q.size(2), head_dim = q.size(3);

  Chunks in;
  in.length = length;
  in.chunk = config.window;
  in.count = (length + in.chunk - 1) / in.chunk;
  in.offset = history.offset;
  in.state_query = history.state_query;
  const int64_t padded = in.count * in.chunk;
  in.queries = pad_time(q.to(dtype), padded);
  in.keys = pad_time(detail::expand_kv(k.to(dtype), heads), padded);
  const at::Tensor values = detail::expand_kv(v.to(dtype), heads);  // [B, H, T, d]
  in.values = pad_time(at::cat({values, at::ones({batch, heads, length, 1}, values.options())}, -1),
                       padded);

  SoftmaxWeights soft;
  at::Tensor sink_values;  // [B, H, s, d + 1] from the history; undefined: the first rows
  if (has_softmax_branch(mode)) {
    at::Tensor sink_keys;  // [B, H, s, d]
    if (history.sink_keys.defined()) {
      sink_keys = detail::expand_kv(history.sink_keys.to(dtype), heads);
      const at::Tensor values = detail::expand_kv(history.sink_values.to(dtype), heads);
      sink_values = at::cat({values, at::ones_like(values.narrow(-1, 0, 1))}, -1);
    }
    soft = softmax_weights(in, sink_keys, weights, config, mode);
  }

  // Hybrid: chunk b lies inside W(i), chunk b-1 straddles its edge, older chunks are outside it
  // (apart from sinks). Linear and overlap: chunk b is causal, older chunks are wholly included.
  const int64_t block_lag = mode == Mode::Hybrid ? 1 : 0;
  at::Tensor phi_q, phi_k;   // [B, H, nc, C, F]
  at::Tensor pair_weights;   // [B, H, nc, C, 2C] over the keys of chunks b-1 and b
  at::Tensor block_weights;  // [B, H, nc, C, C] over the keys of chunk b - block_lag
  if (has_linear_branch(mode)) {
    phi_q = split_chunks(query_features(in.queries, weights, config), in.chunk);
    phi_k = split_chunks(key_features(in.keys, weights, config), in.chunk);
    block_weights = linear_block_weights(phi_q, phi_k, in, block_lag, config, mode);
  }
  if (soft.pairs.defined()) {
    pair_weights = soft.pairs;
    // In place: the product with gamma (always applied when both branches exist) is not saved
    // for its backward.
    if (block_weights.defined()) {
      pair_weights.narrow(-1, (1 - block_lag) * in.chunk, in.chunk).add_(block_weights);
    }
  }

  const std::vector<int64_t> sums_shape = {batch, heads, in.count, in.chunk, head_dim + 1};
  at::Tensor sums;  // [B, H, nc, C, d+1]: numerator, normaliser
  if (pair_weights.defined()) {
    const at::Tensor value_pairs = ChunkRows(in.values, in.chunk).pairs_transposed().transpose(1, 2);  // [B H nc, 2C, d+1]
    sums = at::bmm(flat_chunks(pair_weights), value_pairs).view(sums_shape);
  } else if (block_weights.defined()) {
    sums = at::bmm(flat_chunks(block_weights), lagged_chunks(split_chunks(in.values, in.chunk), block_lag)).view(sums_shape);
  } else {
    sums = at::zeros({batch, heads, in.count, in.chunk, head_dim + 1}, in.values.options());
  }
  if (soft.sinks.defined()) {
    const at::Tensor values =  // [B, H, s, d + 1]
        sink_values.defined() ? sink_values : in.values.narrow(2, 0, soft.sink_count);
    sums.add_(at::matmul(soft.sinks, values).view({batch, heads, in.count, in.chunk, head_dim + 1}));
  }
  if (phi_q.defined()) {
    const at::Tensor initial_state =  // [B, H, F, d + 1]
        history.linear_state.defined() ? history.linear_state.to(dtype) : at::Tensor();
    add_prefix_terms(sums, phi_q, phi_k, in, initial_state, block_lag + 1, config, mode);
  }

  return detail::divide_by_normaliser(sums.narrow(-1, 0, head_dim), sums.select(-1, head_dim))
      .view({batch, heads, padded, head_dim})
      .narrow(2, 0, length)
      .to(q.scalar_type())
      .contiguous();
}

// Query heads first .. first + count of the weights.
HybridLayerWeights heads_of(const HybridLayerWeights& weights, int64_t first, int64_t count) {
  auto slice = [&](const at::Tensor& t) { return t.defined() ? t.narrow(0, first, count) : t; };
  return {slice(weights.feature_q), slice(weights.feature_k), slice(weights.bias_q),
          slice(weights.bias_k), slice(weights.mixing_logit)};
}

// The history of query heads first .. first + count (kv heads by GQA group).
ChunkedHistory history_of_heads(const ChunkedHistory& history, int64_t first, int64_t count,
                                int64_t group) {
  ChunkedHistory slice = history;
  if (slice.linear_state.defined()) slice.linear_state = slice.linear_state.narrow(1, first, count);
  if (slice.sink_keys.defined()) {
    slice.sink_keys = slice.sink_keys.narrow(1, first / group, count / group);
    slice.sink_values = slice.sink_values.narrow(1, first / group, count / group);
  }
  return slice;
}

// Without autograd nothing is kept for a backward pass, so heads are processed in groups whose
// temporaries fit in this budget: a long prefill then needs little more memory than its inputs.
constexpr double kNoGradGroupBytes = 1024.0 * 1024.0 * 1024.0;

// Temporaries of one head without autograd: the operators' about 12 T (d + 2C) floats (measured);
// the kernel's features with the temporaries of the feature maps, the output and input copies,
// at most about T (4F + 4d) floats.
double no_grad_bytes_per_head(const at::Tensor& q, const HybridConfig& config, bool kernel) {
  const double rows = static_cast<double>(q.size(0) * q.size(2)), d = static_cast<double>(q.size(3));
  if (kernel) return 4.0 * rows * (4.0 * static_cast<double>(feature_count(config, q.size(3))) + 4.0 * d);
  return 12.0 * 4.0 * rows * (d + 2.0 * config.window);
}

}  // namespace

namespace detail {

at::Tensor chunked_attention_by_heads(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                      const HybridLayerWeights& weights, const HybridConfig& config,
                                      Mode mode, int64_t heads_per_pass,
                                      const ChunkedHistory& history, bool allow_kernel) {
  require_hybrid_mode(mode);
  validate(config);
  check_inputs(q, k, v, weights, config);
  if (mode == Mode::None) return at::zeros_like(q);
  const int64_t heads = q.size(1), group = heads / k.size(1);
  TORCH_CHECK(heads_per_pass >= 1 && heads_per_pass % group == 0, "heads_per_pass ", heads_per_pass,
              " must be a positive multiple of the GQA group size ", group);
  const bool kernel = allow_kernel && chunked_kernel_applies(q, config, mode, history);
  auto attend_heads = [&](const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                    const HybridLayerWeights& weights, const ChunkedHistory& history) {
    return kernel ? chunked_kernel_attention(q, k, v, weights, config, mode)
                  : attend(q, k, v, weights, config, mode, history);
  };
  if (heads_per_pass >= heads) return attend_heads(q, k, v, weights, history);
  // Each group's result goes straight into its heads of the output: collecting them for a cat
  // would hold a second copy of the output at the peak.
  std::vector<at::Tensor> outputs;  // each [B, heads_per_pass or fewer, T, d], under autograd
  at::Tensor output;                // [B, H, T, d], without
  if (!at::GradMode::is_enabled()) output = at::empty(q.sizes(), q.options());
  for (int64_t first = 0; first < heads; first += heads_per_pass) {
    const int64_t count = std::min(heads_per_pass, heads - first);
    at::Tensor part = attend_heads(q.narrow(1, first, count), k.narrow(1, first / group, count / group),
                             v.narrow(1, first / group, count / group), heads_of(weights, first, count),
                             history_of_heads(history, first, count, group));
    if (output.defined()) {
      output.narrow(1, first, count).copy_(part);
    } else {
      outputs.push_back(std::move(part));
    }
  }
  return output.defined() ? output : at::cat(outputs, 1);
}

namespace {

// chunked_attention, with the kernel where it applies or never.
at::Tensor chunked_attention_on(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                const HybridLayerWeights& weights, const HybridConfig& config,
                                Mode mode, const ChunkedHistory& history, bool allow_kernel) {
  check_inputs(q, k, v, weights, config);  // the head grouping below reads the shapes
  const int64_t heads = q.size(1), group = heads / k.size(1);
  int64_t heads_per_pass = heads;
  if (!at::GradMode::is_enabled()) {
    const bool kernel = allow_kernel && chunked_kernel_applies(q, config, mode, history);
    const double bytes_per_head = no_grad_bytes_per_head(q, config, kernel);
    // Whole GQA groups, so that each slice of query heads reads its own slice of kv heads.
    const int64_t groups = static_cast<int64_t>(kNoGradGroupBytes / bytes_per_head) / group;
    heads_per_pass = std::max<int64_t>(1, groups) * group;
  }
  return chunked_attention_by_heads(q, k, v, weights, config, mode, heads_per_pass, history, allow_kernel);
}

}  // namespace

at::Tensor chunked_attention_with_operators(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                            const HybridLayerWeights& weights, const HybridConfig& config,
                                            Mode mode) {
  return chunked_attention_on(q, k, v, weights, config, mode, ChunkedHistory{}, false);
}

}  // namespace detail

at::Tensor chunked_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                             const HybridLayerWeights& weights, const HybridConfig& config,
                             Mode mode) {
  return chunked_attention(q, k, v, weights, config, mode, ChunkedHistory{});
}

at::Tensor chunked_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                             const HybridLayerWeights& weights, const HybridConfig& config,
                             Mode mode, const ChunkedHistory& history) {
  return detail::chunked_attention_on(q, k, v, weights, config, mode, history, true);
}

}  // namespace lincat::attention
