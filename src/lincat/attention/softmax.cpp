#include "lincat/attention/softmax.h"

#include <cmath>

#include "lincat/attention/window.h"
#include "lincat/kernels/matvec_cpu.h"
#include "lincat/kernels/softmax_decode_cpu.h"

namespace lincat::attention {

void KVCache::append(const at::Tensor& k, const at::Tensor& v, std::optional<int64_t> window) {
  const int64_t T = k.size(2);
  if (!keys.defined()) {
    const int64_t capacity = std::max<int64_t>(T, 16);
    keys = at::empty({k.size(0), k.size(1), capacity, k.size(3)}, k.options());
    values = at::empty_like(keys);
  }
  if (window && length + T > keys.size(2)) {
    // Keep only the keys the next query (position first_position + length) can still see.
    const int64_t next = first_position + length;
    int64_t keep = 0;
    while (keep < length && teacher_sees(next, next - 1 - keep, window)) ++keep;
    if (keep < length) {
      const int64_t drop = length - keep;
      keys.narrow(2, 0, keep).copy_(keys.narrow(2, drop, keep).clone());
      values.narrow(2, 0, keep).copy_(values.narrow(2, drop, keep).clone());
      first_position += drop;
      length = keep;
    }
  }
  if (length + T > keys.size(2)) {
    const int64_t capacity = std::max(2 * keys.size(2), length + T);
    at::Tensor grown_k = at::empty({keys.size(0), keys.size(1), capacity, keys.size(3)}, keys.options());
    at::Tensor grown_v = at::empty_like(grown_k);
    grown_k.narrow(2, 0, length).copy_(valid_keys());
    grown_v.narrow(2, 0, length).copy_(valid_values());
    keys = grown_k;
    values = grown_v;
  }
  keys.narrow(2, length, T).copy_(k);
  values.narrow(2, length, T).copy_(v);
  length += T;
}

int64_t KVCache::bytes() const {
  if (!keys.defined()) return 0;
  return 2 * keys.numel() * static_cast<int64_t>(keys.element_size());
}

namespace {

// The keys [first, first + count) of k a single query at `position` sees (the teacher's rule:
// causal, within the window), as a range of rows; count <= 0 when it sees none.
std::pair<int64_t, int64_t> visible_rows(int64_t position, int64_t k_start, int64_t keys,
                                         std::optional<int64_t> window) {
  const int64_t first_position = window ? std::max(k_start, position - *window + 1) : k_start;
  const int64_t last_position = std::min(k_start + keys - 1, position);
  return {first_position - k_start, last_position - first_position + 1};
}

// One query row (a decode step) in float32 on the CPU without a graph, over keys whose rows are
// consecutive: kernels/softmax_decode_cpu.h.
bool decode_row_kernel_applies(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  const auto row_major = [](const at::Tensor& t) { return t.stride(3) == 1 && t.stride(2) == t.size(3); };
  const bool graph = at::GradMode::is_enabled() && (q.requires_grad() || k.requires_grad() || v.requires_grad());
  return q.size(2) == 1 && !graph && q.device().is_cpu() && q.scalar_type() == at::kFloat &&
         k.scalar_type() == at::kFloat && v.scalar_type() == at::kFloat && k.device().is_cpu() &&
         v.device().is_cpu() && row_major(k) && k.strides() == v.strides() && kernels::matvec_available();
}

}  // namespace

at::Tensor softmax_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                             int64_t q_start, int64_t k_start, std::optional<int64_t> window) {
  if (decode_row_kernel_applies(q, k, v)) {
    const auto [first, count] = visible_rows(q_start, k_start, k.size(2), window);
    if (count > 0) {
      const int64_t B = q.size(0), H = q.size(1), d = q.size(3);
      const at::Tensor query = q.contiguous();  // [B, H, 1, d]
      at::Tensor out = at::empty_like(query);   // [B, H, 1, d]
      for (int64_t b = 0; b < B; ++b) {
        kernels::SoftmaxDecodeRow row;
        row.heads = H;
        row.kv_heads = k.size(1);
        row.head_dim = d;
        row.keys = count;
        row.q = query.data_ptr<float>() + b * H * d;
        row.k = k.data_ptr<float>() + b * k.stride(0) + first * d;
        row.v = v.data_ptr<float>() + b * v.stride(0) + first * d;
        row.kv_head_stride = k.stride(1);
        row.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));
        row.out = out.data_ptr<float>() + b * H * d;
        kernels::softmax_decode_row(row);
      }
      return out;
    }
  }
  return detail::softmax_attention_with_operators(q, k, v, q_start, k_start, window);
}

namespace detail {

at::Tensor softmax_attention_with_operators(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                            int64_t q_start, int64_t k_start, std::optional<int64_t> window) {
  const int64_t B = q.size(0), H = q.size(1), T = q.size(2), d = q.size(3);
  const int64_t Hkv = k.size(1), S = k.size(2), G = H / Hkv;
  // Grouped-query attention without copying keys: the G query heads that share a key head are
  // stacked along the time axis. Query head h uses key head h / G.
  const at::Tensor q_grouped = q.reshape({B, Hkv, G * T, d});                      // [B, Hkv, G*T, d]
  at::Tensor scores = at::matmul(q_grouped, k.transpose(-1, -2)).to(at::kFloat);   // [B, Hkv, G*T, S]
  scores = scores.mul_(1.0 / std::sqrt(static_cast<double>(d))).view({B, Hkv, G, T, S});

  const auto index_options = at::TensorOptions().dtype(at::kLong).device(q.device());
  const at::Tensor query_pos = at::arange(q_start, q_start + T, index_options).unsqueeze(1);  // [T, 1]
  const at::Tensor key_pos = at::arange(k_start, k_start + S, index_options).unsqueeze(0);    // [1, S]
  const at::Tensor visible = teacher_sees(query_pos, key_pos, window);                         // [T, S]
  scores = scores.masked_fill(visible.logical_not(), -std::numeric_limits<float>::infinity());

  const at::Tensor probs = at::softmax(scores, -1).to(v.scalar_type());           // [B, Hkv, G, T, S]
  const at::Tensor out = at::matmul(probs.view({B, Hkv, G * T, S}), v);           // [B, Hkv, G*T, d]
  return out.view({B, H, T, d});
}

}  // namespace detail

}  // namespace lincat::attention
