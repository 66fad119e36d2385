#include "lincat/kernels/hybrid_chunked_cpu.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "lincat/attention/key_sets.h"
#include "lincat/attention/window.h"
#include "lincat/kernels/blas_cpu.h"

namespace lincat::kernels {
namespace {

using attention::has_linear_branch;  // the branches of each mode: attention/key_sets.h
using attention::has_window_branch;

// Chunk b: rows row0 .. row0 + rows - 1 and its pair keys key0 .. key0 + keys - 1 (chunks b-1 and
// b, the part that exists). Blocks over the pair keys have 2C columns, key (b-1)C + c in column c,
// so key0 sits in column column0 (C for the first chunk, else 0).
struct ChunkSpan {
  int64_t row0, rows, key0, keys, column0;
};

ChunkSpan span_of(int64_t b, int64_t chunk, int64_t length) {
  ChunkSpan span;
  span.row0 = b * chunk;
  span.rows = std::min(chunk, length - span.row0);
  span.key0 = std::max<int64_t>(0, (b - 1) * chunk);
  span.keys = span.row0 + span.rows - span.key0;
  span.column0 = span.key0 - (b - 1) * chunk;
  return span;
}

// The per-chunk blocks of one head, reused from chunk to chunk.
template <typename T>
struct Workspace {
  explicit Workspace(const HybridChunkedHead<T>& head)
      : scores(head.window * 2 * head.window), weights(scores.size()), linear(scores.size()),
        row_normaliser(head.window), state(head.features * head.head_dim), state_normaliser(head.features) {}
  std::vector<T> scores;            // [C, 2C] s_ij, later the gradient of the weights
  std::vector<T> weights;           // [C, 2C] unnormalised weights of the pair keys, both branches
  std::vector<T> linear;            // [C, 2C] phi_q(q_i) . phi_k(k_j), later its gradient
  std::vector<T> row_normaliser;    // [C] den_i
  std::vector<T> state;             // [F, d] S
  std::vector<T> state_normaliser;  // [F] z
};

// What the kernel needs of the window rule (the sinks are not covered).
template <typename T>
attention::HybridConfig window_config(const HybridChunkedHead<T>& head) {
  attention::HybridConfig config;
  config.window = static_cast<int>(head.window);
  config.layout = head.layout;
  config.sinks = 0;
  return config;
}

// Pair columns of chunk b whose keys may enter the linear set of some row (from column0): the
// hybrid mode's keys of chunk b-1 before the window (none in the first chunk, none for the terraced
// window, which starts at chunk b-1), every pair key in the linear and overlap modes.
template <typename T>
int64_t linear_columns(const HybridChunkedHead<T>& head, int64_t b, const ChunkSpan& span) {
  switch (head.mode) {
    case attention::Mode::Hybrid:
      return head.layout == attention::Layout::Standard && b >= 1 ? head.window : 0;
    case attention::Mode::Linear:
    case attention::Mode::Overlap:
      return span.keys;
    default:
      return 0;
  }
}

// Row r's softmax columns are [softmax_first, softmax_last] (empty when first > last), its linear
// columns of the pair block [linear_first, linear_end) (linear_first: the chunk's column0).
struct RowColumns {
  int64_t softmax_first, softmax_last, linear_first, linear_end;
};

template <typename T>
RowColumns row_columns(const HybridChunkedHead<T>& head, const attention::HybridConfig& rule, int64_t b,
                       const ChunkSpan& span, int64_t row) {
  const int64_t base = (b - 1) * head.window;
  const int64_t start = attention::window_start(row, rule) - base, own = row - base;
  RowColumns cols{0, -1, span.column0, span.column0};
  if (has_window_branch(head.mode)) cols = {start, own, span.column0, span.column0};
  if (head.mode == attention::Mode::Hybrid) cols.linear_end = std::max(span.column0, start);
  if (head.mode == attention::Mode::Linear || head.mode == attention::Mode::Overlap) cols.linear_end = own + 1;
  return cols;
}

// Folds the keys of chunk c (whole) into [S z]: S += phi_k^T V, z += sum of phi_k rows.
template <typename T>
void fold_chunk(const HybridChunkedHead<T>& head, int64_t c, Workspace<T>& ws) {
  const int64_t chunk = head.window, d = head.head_dim, features = head.features;
  const T* phi_k = head.phi_k + c * chunk * features;
  gemm<T>(true, false, features, d, chunk, T(1), phi_k, features, head.v + c * chunk * d, d, T(1),
          ws.state.data(), d);
  for (int64_t r = 0; r < chunk; ++r) {
    for (int64_t f = 0; f < features; ++f) ws.state_normaliser[f] += phi_k[r * features + f];
  }
}

// linear[r][c] = phi_q(q_{row0 + r}) . phi_k(k_{(b-1)C + c}) over the first `columns` pair columns.
template <typename T>
void linear_block(const HybridChunkedHead<T>& head, const ChunkSpan& span, int64_t columns, Workspace<T>& ws) {
  const int64_t features = head.features;
  gemm<T>(false, true, span.rows, columns, features, T(1), head.phi_q + span.row0 * features, features,
          head.phi_k + span.key0 * features, features, T(0), ws.linear.data() + span.column0, 2 * head.window);
}

// Row r's weights over the pair columns: the linear block's, plus gamma exp(s - m) (`exps`) over
// the softmax columns; zero elsewhere.
template <typename T>
void pair_weights(const HybridChunkedHead<T>& head, const RowColumns& cols, const T* linear, const T* exps, T* p) {
  std::fill(p, p + 2 * head.window, T(0));
  for (int64_t c = cols.linear_first; c < cols.linear_end; ++c) p[c] = linear[c];
  for (int64_t c = cols.softmax_first; c <= cols.softmax_last; ++c) p[c] += head.gamma * exps[c];
}

}  // namespace

template <typename T>
void hybrid_chunked_forward(const HybridChunkedHead<T>& head) {
  const int64_t length = head.length, chunk = head.window, d = head.head_dim, features = head.features;
  const int64_t width = 2 * chunk, count = (length + chunk - 1) / chunk;
  const T scale = T(1) / std::sqrt(static_cast<T>(d));
  const attention::HybridConfig rule = window_config(head);
  const bool window_branch = has_window_branch(head.mode), linear_branch = has_linear_branch(head.mode);
  Workspace<T> ws(head);
  std::vector<T> exps(width);  // one row's exp(s - m)
  for (int64_t b = 0; b < count; ++b) {
    const ChunkSpan span = span_of(b, chunk, length);
    // [rows, keys] scores over the pair keys.
    if (window_branch) {
      gemm<T>(false, true, span.rows, span.keys, d, scale, head.q + span.row0 * d, d, head.k + span.key0 * d, d,
              T(0), ws.scores.data() + span.column0, width);
    }
    const int64_t linear_cols = linear_columns(head, b, span);
    if (linear_cols > 0) linear_block(head, span, linear_cols, ws);
    for (int64_t r = 0; r < span.rows; ++r) {
      const int64_t row = span.row0 + r;
      const RowColumns cols = row_columns(head, rule, b, span, row);
      const T* s = ws.scores.data() + r * width;
      std::fill(exps.begin(), exps.end(), T(0));
      if (cols.softmax_first <= cols.softmax_last) {
        int64_t max_column = cols.softmax_first;
        for (int64_t c = cols.softmax_first + 1; c <= cols.softmax_last; ++c) {
          if (s[c] > s[max_column]) max_column = c;
        }
        for (int64_t c = cols.softmax_first; c <= cols.softmax_last; ++c) exps[c] = std::exp(s[c] - s[max_column]);
        if (head.max_column != nullptr) head.max_column[row] = static_cast<int32_t>(max_column);
      }
      if (head.window_exp != nullptr) std::copy(exps.begin(), exps.end(), head.window_exp + row * width);
      T* p = ws.weights.data() + r * width;
      pair_weights(head, cols, ws.linear.data() + r * width, exps.data(), p);
      T sum = 0;
      for (int64_t c = 0; c < width; ++c) sum += p[c];
      ws.row_normaliser[r] = sum;
    }
    // Numerators: the pair block's weights times its values, written straight into out.
    T* out = head.out + span.row0 * d;
    gemm<T>(false, false, span.rows, d, span.keys, T(1), ws.weights.data() + span.column0, width,
            head.v + span.key0 * d, d, T(0), out, d);
    if (linear_branch && b >= 2) {  // older chunks through the running state, which now holds chunks 0 .. b-2
      fold_chunk(head, b - 2, ws);
      const T* phi_q = head.phi_q + span.row0 * features;
      gemm<T>(false, false, span.rows, d, features, T(1), phi_q, features, ws.state.data(), d, T(1), out, d);
      for (int64_t r = 0; r < span.rows; ++r) {
        T dot = 0;
        for (int64_t f = 0; f < features; ++f) dot += phi_q[r * features + f] * ws.state_normaliser[f];
        ws.row_normaliser[r] += dot;
      }
    }
    for (int64_t r = 0; r < span.rows; ++r) {
      const T den = ws.row_normaliser[r];
      if (head.normaliser != nullptr) head.normaliser[span.row0 + r] = den;
      const T divisor = std::max(den, head.denominator_floor);
      for (int64_t e = 0; e < d; ++e) out[r * d + e] /= divisor;
    }
  }
}

template <typename T>
void hybrid_chunked_backward(const HybridChunkedHead<T>& head, HybridChunkedGradients<T>& grads) {
  const int64_t length = head.length, chunk = head.window, d = head.head_dim, features = head.features;
  const int64_t width = 2 * chunk, count = (length + chunk - 1) / chunk;
  const T scale = T(1) / std::sqrt(static_cast<T>(d));
  const attention::HybridConfig rule = window_config(head);
  const bool window_branch = has_window_branch(head.mode), linear_branch = has_linear_branch(head.mode);
  Workspace<T> ws(head);
  std::fill(grads.grad_q, grads.grad_q + length * d, T(0));
  std::fill(grads.grad_k, grads.grad_k + length * d, T(0));
  std::fill(grads.grad_v, grads.grad_v + length * d, T(0));
  std::fill(grads.grad_phi_q, grads.grad_phi_q + length * features, T(0));
  std::fill(grads.grad_phi_k, grads.grad_phi_k + length * features, T(0));
  grads.grad_gamma = 0;

  // y_i = num_i / max(den_i, floor): the gradients of num_i and den_i.
  std::vector<T> grad_num(length * d);  // [T, d]
  std::vector<T> grad_den(length);      // [T]
  for (int64_t i = 0; i < length; ++i) {
    const T den = head.normaliser[i], divisor = std::max(den, head.denominator_floor);
    const T* g = grads.grad_out + i * d;
    T dot = 0;
    for (int64_t e = 0; e < d; ++e) {
      grad_num[i * d + e] = g[e] / divisor;
      dot += g[e] * head.out[i * d + e];
    }
    grad_den[i] = den >= head.denominator_floor ? -dot / divisor : T(0);
  }

  // The prefix read phi_q(q_i) [S z] of chunk b (state of chunks 0 .. b-2), in forward order.
  for (int64_t b = 2; linear_branch && b < count; ++b) {
    const ChunkSpan span = span_of(b, chunk, length);
    fold_chunk(head, b - 2, ws);
    gemm<T>(false, true, span.rows, features, d, T(1), grad_num.data() + span.row0 * d, d, ws.state.data(), d,
            T(1), grads.grad_phi_q + span.row0 * features, features);
    for (int64_t r = 0; r < span.rows; ++r) {
      T* g = grads.grad_phi_q + (span.row0 + r) * features;
      for (int64_t f = 0; f < features; ++f) g[f] += grad_den[span.row0 + r] * ws.state_normaliser[f];
    }
  }

  // Backward in reverse order: [dS dz] gathers the gradient of the state that chunk c's keys enter,
  // read by query chunks c + 2 and later.
  std::fill(ws.state.begin(), ws.state.end(), T(0));
  std::fill(ws.state_normaliser.begin(), ws.state_normaliser.end(), T(0));
  for (int64_t b = count - 1; b >= 0; --b) {
    if (linear_branch && b + 2 < count) {
      const ChunkSpan reader = span_of(b + 2, chunk, length);
      const T* phi_q = head.phi_q + reader.row0 * features;
      gemm<T>(true, false, features, d, reader.rows, T(1), phi_q, features, grad_num.data() + reader.row0 * d, d,
              T(1), ws.state.data(), d);
      for (int64_t r = 0; r < reader.rows; ++r) {
        for (int64_t f = 0; f < features; ++f) ws.state_normaliser[f] += phi_q[r * features + f] * grad_den[reader.row0 + r];
      }
      const int64_t key0 = b * chunk;  // chunk b is whole: two chunks follow it
      gemm<T>(false, true, chunk, features, d, T(1), head.v + key0 * d, d, ws.state.data(), d, T(1),
              grads.grad_phi_k + key0 * features, features);
      for (int64_t r = 0; r < chunk; ++r) {
        T* g = grads.grad_phi_k + (key0 + r) * features;
        for (int64_t f = 0; f < features; ++f) g[f] += ws.state_normaliser[f];
      }
      gemm<T>(false, false, chunk, d, features, T(1), head.phi_k + key0 * features, features, ws.state.data(), d,
              T(1), grads.grad_v + key0 * d, d);
    }

    // The pair block of query chunk b: its weights again (saved exponentials, linear block recomputed).
    const ChunkSpan span = span_of(b, chunk, length);
    const int64_t linear_cols = linear_columns(head, b, span);
    if (linear_cols > 0) linear_block(head, span, linear_cols, ws);
    for (int64_t r = 0; r < span.rows; ++r) {
      const int64_t row = span.row0 + r;
      pair_weights(head, row_columns(head, rule, b, span, row), ws.linear.data() + r * width,
                   head.window_exp + row * width, ws.weights.data() + r * width);
    }
    const T* grad_num_b = grad_num.data() + span.row0 * d;
    // grad of each weight: g_ij = dnum_i . v_j + dden_i
    gemm<T>(false, true, span.rows, span.keys, d, T(1), grad_num_b, d, head.v + span.key0 * d, d, T(0),
            ws.scores.data() + span.column0, width);
    gemm<T>(true, false, span.keys, d, span.rows, T(1), ws.weights.data() + span.column0, width, grad_num_b, d,
            T(1), grads.grad_v + span.key0 * d, d);
    for (int64_t r = 0; r < span.rows; ++r) {
      const int64_t row = span.row0 + r;
      const RowColumns cols = row_columns(head, rule, b, span, row);
      const T* e = head.window_exp + row * width;
      T* g = ws.scores.data() + r * width;  // becomes the gradient of the scores s_ij
      T* gl = ws.linear.data() + r * width;  // becomes the gradient of the linear block
      const T grad_den_i = grad_den[row];
      for (int64_t c = 0; c < width; ++c) gl[c] = c >= cols.linear_first && c < cols.linear_end ? g[c] + grad_den_i : T(0);
      // a_ij = gamma exp(s_ij - m_i): d a / d s_ij = a_ij, and m_i's gradient goes to its argument.
      T row_sum = 0, gamma_sum = 0;
      for (int64_t c = 0; c < width; ++c) {
        if (c < cols.softmax_first || c > cols.softmax_last) {
          g[c] = 0;
          continue;
        }
        const T weight_grad = g[c] + grad_den_i;
        gamma_sum += e[c] * weight_grad;
        g[c] = head.gamma * e[c] * weight_grad;
        row_sum += g[c];
      }
      if (cols.softmax_first <= cols.softmax_last) g[head.max_column[row]] -= row_sum;
      grads.grad_gamma += gamma_sum;
    }
    if (window_branch) {
      gemm<T>(false, false, span.rows, d, span.keys, scale, ws.scores.data() + span.column0, width,
              head.k + span.key0 * d, d, T(1), grads.grad_q + span.row0 * d, d);
      gemm<T>(true, false, span.keys, d, span.rows, scale, ws.scores.data() + span.column0, width,
              head.q + span.row0 * d, d, T(1), grads.grad_k + span.key0 * d, d);
    }
    if (linear_cols > 0) {
      gemm<T>(false, false, span.rows, features, linear_cols, T(1), ws.linear.data() + span.column0, width,
              head.phi_k + span.key0 * features, features, T(1), grads.grad_phi_q + span.row0 * features, features);
      gemm<T>(true, false, linear_cols, features, span.rows, T(1), ws.linear.data() + span.column0, width,
              head.phi_q + span.row0 * features, features, T(1), grads.grad_phi_k + span.key0 * features, features);
    }
  }
}

template void hybrid_chunked_forward<float>(const HybridChunkedHead<float>&);
template void hybrid_chunked_forward<double>(const HybridChunkedHead<double>&);
template void hybrid_chunked_backward<float>(const HybridChunkedHead<float>&, HybridChunkedGradients<float>&);
template void hybrid_chunked_backward<double>(const HybridChunkedHead<double>&, HybridChunkedGradients<double>&);

}  // namespace lincat::kernels
