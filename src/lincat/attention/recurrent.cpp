#include "lincat/attention/recurrent.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "lincat/attention/chunked.h"
#include "lincat/attention/form_support.h"
#include "lincat/attention/key_sets.h"
#include "lincat/attention/window.h"
#include "lincat/kernels/hybrid_decode_cpu.h"

namespace lincat::attention {
namespace {

void initialise(HybridLayerState& state, const at::Tensor& q, const at::Tensor& k,
                const HybridConfig& config, Mode mode) {
  const int64_t batch = q.size(0), heads = q.size(1), kv_heads = k.size(1), head_dim = q.size(3);
  state = HybridLayerState{};
  state.mode = mode;
  if (has_window_branch(mode)) {
    const int64_t capacity = window_capacity(config);
    state.window_keys = at::zeros({batch, kv_heads, capacity, head_dim}, k.options());
    state.window_values = at::zeros_like(state.window_keys);
  }
  const int64_t sinks = sink_count(mode, config);
  if (sinks > 0) {
    state.sink_keys = at::zeros({batch, kv_heads, sinks, head_dim}, k.options());
    state.sink_values = at::zeros_like(state.sink_keys);
  }
  if (has_linear_branch(mode)) {
    const int64_t features = feature_count(config, head_dim);
    const at::TensorOptions options = q.options().dtype(detail::compute_dtype(q));
    state.linear_state = at::zeros({batch, heads, features, head_dim}, options);
    state.linear_normaliser = at::zeros({batch, heads, features}, options);
  }
}

// Checks the inputs of T >= 1 tokens and sets up an empty state; refuses a state built for
// another mode.
void prepare_state(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                   const HybridLayerWeights& weights, const HybridConfig& config, Mode mode,
                   HybridLayerState& state) {
  require_hybrid_mode(mode);
  validate(config);
  detail::check_inputs(q, k, v, weights, config);
  TORCH_CHECK(q.size(2) >= 1, "a continuation needs q [B, H, T, d] with T >= 1");
  if (state.empty()) {
    initialise(state, q, k, config, mode);
  } else {
    TORCH_CHECK(state.mode == mode, "decode state was built for mode '", mode_name(state.mode),
                "', called with '", mode_name(mode), "'");
  }
}

// Adds keys, values [B, Hkv, m, d] to S and z: phi_k is applied now, as they enter L(i).
void fold_into_linear_state(HybridLayerState& state, const at::Tensor& keys,
                            const at::Tensor& values, const HybridLayerWeights& weights,
                            const HybridConfig& config) {
  const int64_t heads = state.linear_state.size(1);
  const at::ScalarType dtype = state.linear_state.scalar_type();
  const at::Tensor phi_k =  // [B, H, m, F]
      key_features(detail::expand_kv(keys.to(dtype), heads), weights, config);
  const at::Tensor expanded_values = detail::expand_kv(values.to(dtype), heads);  // [B, H, m, d]
  state.linear_state.add_(at::matmul(phi_k.transpose(-1, -2), expanded_values));
  state.linear_normaliser.add_(phi_k.sum(2));
}

at::Tensor positions_tensor(const std::vector<int64_t>& positions, const at::Device& device) {
  return at::tensor(positions, at::kLong).to(device);
}

// Which buffered slots the softmax branch of query `position` reads, once its own key is written:
// the ring slots (each holds the latest position written to it; sinks are read from the sink
// buffer instead), then the sink slots. One flag per slot, ring first.
std::vector<char> softmax_slots(const HybridLayerState& state, const HybridConfig& config, Mode mode,
                                int64_t position) {
  std::vector<char> include;
  const int64_t sinks = state.sink_keys.defined() ? state.sink_keys.size(2) : 0;
  if (state.window_keys.defined()) {
    const int64_t capacity = state.window_keys.size(2);
    for (int64_t slot = 0; slot < capacity; ++slot) {
      const int64_t held = position - ((position - slot) % capacity + capacity) % capacity;
      include.push_back(held >= sinks && in_softmax_set(mode, position, held, config));
    }
  }
  for (int64_t j = 0; j < sinks; ++j) include.push_back(in_softmax_set(mode, position, j, config));
  return include;
}

// The softmax branch for query `position`: ring slots and sink slots in its softmax set.
// scaled_query [B, H, 1, d] (divided by sqrt(d)). Returns numerator [B, H, 1, d], normaliser [B, H, 1].
std::pair<at::Tensor, at::Tensor> softmax_terms(const HybridLayerState& state,
                                                const at::Tensor& scaled_query,
                                                const HybridConfig& config, Mode mode,
                                                int64_t position) {
  const int64_t heads = scaled_query.size(1);
  const at::ScalarType dtype = scaled_query.scalar_type();
  std::vector<at::Tensor> keys, values;  // each [B, Hkv, slots, d]
  if (state.window_keys.defined()) {
    keys.push_back(state.window_keys);
    values.push_back(state.window_values);
  }
  if (state.sink_keys.defined()) {
    keys.push_back(state.sink_keys);
    values.push_back(state.sink_values);
  }
  const std::vector<char> include = softmax_slots(state, config, mode, position);  // per slot, in order
  const at::Tensor all_keys = detail::expand_kv(at::cat(keys, 2).to(dtype), heads);      // [B, H, slots, d]
  const at::Tensor all_values = detail::expand_kv(at::cat(values, 2).to(dtype), heads);  // [B, H, slots, d]
  const at::Tensor mask = detail::build_mask(  // [1, slots]
      1, static_cast<int64_t>(include.size()), [&](int64_t, int64_t s) { return include[s]; },
      scaled_query.device());
  const at::Tensor scores =  // [B, H, 1, slots]
      at::matmul(scaled_query, all_keys.transpose(-1, -2))
          .masked_fill(~mask, -std::numeric_limits<double>::infinity());
  const at::Tensor weights = at::exp(scores - std::get<0>(scores.max(-1, true)));  // [B, H, 1, slots]
  return {at::matmul(weights, all_values), weights.sum(-1)};
}

}  // namespace

at::Tensor prefill(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                   const HybridLayerWeights& weights, const HybridConfig& config, Mode mode,
                   HybridLayerState& state) {
  TORCH_CHECK(state.empty(), "prefill needs an empty decode state; this one has seen ",
              state.tokens_seen, " tokens");
  return continue_chunked(q, k, v, weights, config, mode, state);
}

at::Tensor continue_chunked(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            const HybridLayerWeights& weights, const HybridConfig& config,
                            Mode mode, HybridLayerState& state) {
  prepare_state(q, k, v, weights, config, mode, state);
  const int64_t seen = state.tokens_seen, length = q.size(2), end = seen + length;
  const int64_t capacity = state.window_keys.defined() ? state.window_keys.size(2) : 0;
  const int64_t sinks = state.sink_keys.defined() ? state.sink_keys.size(2) : 0;

  // The rows start at the chunk holding the oldest buffered position: the new queries' window
  // reaches no further back (sinks aside), and older linear keys are in S and z already.
  ChunkedHistory history;
  const int64_t buffered_from = std::max<int64_t>(0, seen - capacity);
  history.offset = buffered_from / config.window * config.window;
  history.state_query = seen - 1;
  at::Tensor rows_q = q, rows_k = k, rows_v = v;  // [B, H or Hkv, end - offset, d]
  const int64_t history_rows = seen - history.offset;
  if (history_rows > 0) {
    // Each history row from the ring, else from the sink buffer, else a zero row: no new query
    // reads those (they are outside its window and already in S).
    std::vector<at::Tensor> keys, values;  // sources, concatenated along time
    if (capacity > 0) {
      keys.push_back(state.window_keys);
      values.push_back(state.window_values);
    }
    if (sinks > 0) {
      keys.push_back(state.sink_keys);
      values.push_back(state.sink_values);
    }
    keys.push_back(at::zeros_like(k.narrow(2, 0, 1)));
    values.push_back(at::zeros_like(v.narrow(2, 0, 1)));
    std::vector<int64_t> sources;
    for (int64_t p = history.offset; p < seen; ++p) {
      sources.push_back(capacity > 0 && p >= buffered_from ? p % capacity
                        : p < sinks                        ? capacity + p
                                                           : capacity + sinks);
    }
    const at::Tensor index = positions_tensor(sources, k.device());  // [history_rows]
    rows_k = at::cat({at::cat(keys, 2).index_select(2, index).to(k.scalar_type()), k}, 2);
    rows_v = at::cat({at::cat(values, 2).index_select(2, index).to(v.scalar_type()), v}, 2);
    rows_q = at::cat({at::zeros_like(q.narrow(2, 0, 1)).expand({-1, -1, history_rows, -1}), q}, 2);
  }
  if (history.offset > 0 && sinks > 0) {
    // The rows no longer hold the sinks: the buffered ones, then any the new tokens complete.
    const int64_t held = std::min(sinks, seen), added = std::min(sinks, end) - held;
    history.sink_keys = at::cat({state.sink_keys.narrow(2, 0, held), k.narrow(2, 0, added)}, 2);
    history.sink_values = at::cat({state.sink_values.narrow(2, 0, held), v.narrow(2, 0, added)}, 2);
  }
  if (state.linear_state.defined() && seen > 0) {
    history.linear_state = at::cat({state.linear_state, state.linear_normaliser.unsqueeze(-1)}, -1);
  }
  const at::Tensor output =  // [B, H, T, d]
      chunked_attention(rows_q, rows_k, rows_v, weights, config, mode, history)
          .narrow(2, history_rows, length);

  const at::NoGradGuard no_grad;
  if (capacity > 0) {
    std::vector<int64_t> slots;
    const int64_t first = std::max(seen, end - capacity);
    for (int64_t p = first; p < end; ++p) slots.push_back(p % capacity);
    const at::Tensor index = positions_tensor(slots, k.device());  // [min(T, capacity)]
    state.window_keys.index_copy_(2, index, k.narrow(2, first - seen, end - first));
    state.window_values.index_copy_(2, index, v.narrow(2, first - seen, end - first));
  }
  if (seen < sinks) {
    const int64_t added = std::min(sinks, end) - seen;
    state.sink_keys.narrow(2, seen, added).copy_(k.narrow(2, 0, added));
    state.sink_values.narrow(2, seen, added).copy_(v.narrow(2, 0, added));
  }
  if (state.linear_state.defined()) {
    // S and z hold the linear set of the last query; the keys that entered it since the state's
    // last query are all in the rows.
    std::vector<int64_t> entering_rows;
    for (int64_t p = history.offset; p < end; ++p) {
      if (in_linear_set(mode, end - 1, p, config) && !in_linear_set(mode, seen - 1, p, config)) {
        entering_rows.push_back(p - history.offset);
      }
    }
    if (!entering_rows.empty()) {
      const at::Tensor index = positions_tensor(entering_rows, k.device());  // [m]
      fold_into_linear_state(state, rows_k.index_select(2, index), rows_v.index_select(2, index),
                             weights, config);
    }
  }
  state.tokens_seen = end;
  return output;
}

namespace {

// Buffered positions (older than `position`) whose keys enter the linear set of `position`: they
// leave the window now.
std::vector<int64_t> entering_positions(const HybridLayerState& state, const HybridConfig& config, Mode mode,
                                        int64_t position) {
  std::vector<int64_t> entering;
  if (!state.linear_state.defined() || !state.window_keys.defined()) return entering;
  for (int64_t p = std::max<int64_t>(0, position - state.window_keys.size(2)); p < position; ++p) {
    if (in_linear_set(mode, position, p, config) && !in_linear_set(mode, position - 1, p, config)) {
      entering.push_back(p);
    }
  }
  return entering;
}

// Can the fused kernel run this step: CPU, float32 or float64 throughout, contiguous buffers.
bool fused_step_applies(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                        const HybridLayerState& state, Mode mode) {
  const at::ScalarType dtype = q.scalar_type();
  if (mode == Mode::None || !q.device().is_cpu() || (dtype != at::kFloat && dtype != at::kDouble)) return false;
  if (k.scalar_type() != dtype || v.scalar_type() != dtype) return false;
  for (const at::Tensor* buffer : {&state.window_keys, &state.window_values, &state.sink_keys, &state.sink_values,
                                   &state.linear_state, &state.linear_normaliser}) {
    if (buffer->defined() && (buffer->scalar_type() != dtype || !buffer->is_contiguous() || !buffer->device().is_cpu())) {
      return false;
    }
  }
  return true;
}

template <typename T>
T* data_or_null(const at::Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

// Steps of one layer through kernels/hybrid_decode_cpu.h, token after token, on a prepared state
// that fused_step_applies accepted: the weights are cast and the buffers bound once, and each
// token only sets its pointers and its slot flags.
template <typename T>
class FusedSteps {
 public:
  FusedSteps(const HybridLayerWeights& weights, const HybridConfig& config, Mode mode, HybridLayerState& state,
             int64_t batch, int64_t heads, int64_t kv_heads, int64_t head_dim)
      : config_(config), mode_(mode), state_(state) {
    const at::ScalarType dtype = c10::CppTypeToScalarType<T>::value;
    const auto cast = [&](const at::Tensor& t) { return t.defined() ? t.to(dtype).contiguous() : t; };
    feature_q_ = cast(weights.feature_q);  // [H, d, f]
    feature_k_ = cast(weights.feature_k);
    bias_q_ = cast(weights.bias_q);  // [H, f]
    bias_k_ = cast(weights.bias_k);
    if (softmax_branch_is_mixed(mode)) gamma_ = at::sigmoid(weights.mixing_logit.to(dtype)).contiguous();  // [H]

    step_.batch = batch;
    step_.heads = heads;
    step_.kv_heads = kv_heads;
    step_.head_dim = head_dim;
    step_.feature_map = config.feature_map;
    step_.projection_dim = config.feature_dim;
    step_.features = state.linear_state.defined() ? state.linear_state.size(2) : 0;
    step_.ring_keys = data_or_null<T>(state.window_keys);
    step_.ring_values = data_or_null<T>(state.window_values);
    step_.capacity = state.window_keys.defined() ? state.window_keys.size(2) : 0;
    step_.sink_keys = data_or_null<T>(state.sink_keys);
    step_.sink_values = data_or_null<T>(state.sink_values);
    step_.sinks = state.sink_keys.defined() ? state.sink_keys.size(2) : 0;
    step_.linear_state = data_or_null<T>(state.linear_state);
    step_.linear_normaliser = data_or_null<T>(state.linear_normaliser);
    step_.feature_q = data_or_null<T>(feature_q_);
    step_.feature_k = data_or_null<T>(feature_k_);
    step_.bias_q = data_or_null<T>(bias_q_);
    step_.bias_k = data_or_null<T>(bias_k_);
    step_.gamma = data_or_null<T>(gamma_);
    step_.linear_branch = state.linear_state.defined();
    step_.softmax_branch = has_softmax_branch(mode);
    step_.denominator_floor = detail::kDenominatorFloor;
  }

  // The token at state.tokens_seen: q [B, H, d], k, v [B, Hkv, d] -> out [B, H, d]; advances the state.
  void run(const T* q, const T* k, const T* v, T* out) {
    const int64_t position = state_.tokens_seen;
    step_.q = q;
    step_.k = k;
    step_.v = v;
    step_.out = out;
    step_.entering_slots.clear();
    for (const int64_t p : entering_positions(state_, config_, mode_, position)) {
      step_.entering_slots.push_back(p % step_.capacity);
    }
    step_.fold_own_key = step_.linear_branch && in_linear_set(mode_, position, position, config_);
    step_.ring_slot = step_.capacity > 0 ? position % step_.capacity : -1;
    step_.sink_slot = position < step_.sinks ? position : -1;
    if (step_.softmax_branch) {
      const std::vector<char> include = softmax_slots(state_, config_, mode_, position);  // ring, then sinks
      step_.ring_in_softmax.assign(include.begin(), include.begin() + step_.capacity);
      step_.sink_in_softmax.assign(include.begin() + step_.capacity, include.end());
    }
    kernels::run_hybrid_decode_step(step_);
    state_.tokens_seen = position + 1;
  }

 private:
  const HybridConfig& config_;
  Mode mode_;
  HybridLayerState& state_;
  at::Tensor feature_q_, feature_k_, bias_q_, bias_k_, gamma_;  // cast to T; the kernel reads them
  kernels::HybridDecodeStep<T> step_;
};

// The T tokens of q [B, H, T, d], k, v [B, Hkv, T, d] one after another through FusedSteps; the
// caller checked fused_step_applies. Returns [B, H, T, d].
template <typename T>
at::Tensor fused_steps(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                       const HybridLayerWeights& weights, const HybridConfig& config, Mode mode,
                       HybridLayerState& state) {
  const int64_t B = q.size(0), H = q.size(1), Hkv = k.size(1), length = q.size(2), d = q.size(3);
  // Token-major copies, so that each token's rows are one [B, H or Hkv, d] block.
  const at::Tensor query = length == 1 ? q.contiguous() : q.permute({2, 0, 1, 3}).contiguous();  // [T, B, H, d]
  const at::Tensor key = length == 1 ? k.contiguous() : k.permute({2, 0, 1, 3}).contiguous();    // [T, B, Hkv, d]
  const at::Tensor value = length == 1 ? v.contiguous() : v.permute({2, 0, 1, 3}).contiguous();  // [T, B, Hkv, d]
  at::Tensor output = at::empty({length, B, H, d}, query.options());                             // [T, B, H, d]
  FusedSteps<T> steps(weights, config, mode, state, B, H, Hkv, d);
  const T* q_rows = query.data_ptr<T>();
  const T* k_rows = key.data_ptr<T>();
  const T* v_rows = value.data_ptr<T>();
  T* out_rows = output.data_ptr<T>();
  for (int64_t t = 0; t < length; ++t) {
    steps.run(q_rows + t * B * H * d, k_rows + t * B * Hkv * d, v_rows + t * B * Hkv * d, out_rows + t * B * H * d);
  }
  return length == 1 ? output.view({B, H, 1, d}) : output.permute({1, 2, 0, 3});  // [B, H, T, d]
}

// fused_steps for q's dtype, float32 or float64 (fused_step_applies holds).
at::Tensor fused_steps_in_dtype(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                const HybridLayerWeights& weights, const HybridConfig& config, Mode mode,
                                HybridLayerState& state) {
  return q.scalar_type() == at::kFloat ? fused_steps<float>(q, k, v, weights, config, mode, state)
                                       : fused_steps<double>(q, k, v, weights, config, mode, state);
}

// decode_step_with_operators once the state is prepared.
at::Tensor operators_step(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                          const HybridLayerWeights& weights, const HybridConfig& config, Mode mode,
                          HybridLayerState& state) {
  const int64_t position = state.tokens_seen;
  const at::ScalarType dtype = detail::compute_dtype(q);

  if (state.linear_state.defined()) {
    // Buffered keys that enter the linear set now (they leave the window), before the ring slot
    // of the oldest is overwritten by the new key.
    if (state.window_keys.defined()) {
      const int64_t capacity = state.window_keys.size(2);
      std::vector<int64_t> entering_slots;
      for (const int64_t p : entering_positions(state, config, mode, position)) entering_slots.push_back(p % capacity);
      if (!entering_slots.empty()) {
        const at::Tensor index = positions_tensor(entering_slots, k.device());  // [m]
        fold_into_linear_state(state, state.window_keys.index_select(2, index),
                               state.window_values.index_select(2, index), weights, config);
      }
    }
    if (in_linear_set(mode, position, position, config)) {
      fold_into_linear_state(state, k, v, weights, config);
    }
  }
  if (state.window_keys.defined()) {
    const int64_t slot = position % state.window_keys.size(2);
    state.window_keys.narrow(2, slot, 1).copy_(k);
    state.window_values.narrow(2, slot, 1).copy_(v);
  }
  if (state.sink_keys.defined() && position < state.sink_keys.size(2)) {
    state.sink_keys.narrow(2, position, 1).copy_(k);
    state.sink_values.narrow(2, position, 1).copy_(v);
  }
  state.tokens_seen = position + 1;
  if (mode == Mode::None) return at::zeros_like(q);

  const at::Tensor query = q.to(dtype);  // [B, H, 1, d]
  at::Tensor numerator;                  // [B, H, 1, d]
  at::Tensor normaliser;                 // [B, H, 1]
  if (has_softmax_branch(mode)) {
    const auto [soft_numerator, soft_normaliser] = softmax_terms(
        state, query / std::sqrt(static_cast<double>(q.size(3))), config, mode, position);
    const at::Tensor gamma = detail::softmax_branch_weight(weights, mode, 1, dtype);  // [1, H, 1]
    numerator = soft_numerator * gamma.unsqueeze(-1);
    normaliser = soft_normaliser * gamma;
  }
  if (has_linear_branch(mode)) {
    const at::Tensor phi_q = query_features(query, weights, config);  // [B, H, 1, F]
    const at::Tensor linear_numerator = at::matmul(phi_q, state.linear_state);  // [B, H, 1, d]
    const at::Tensor linear_normaliser =                                           // [B, H, 1]
        at::matmul(phi_q, state.linear_normaliser.unsqueeze(-1)).squeeze(-1);
    numerator = numerator.defined() ? numerator + linear_numerator : linear_numerator;
    normaliser = normaliser.defined() ? normaliser + linear_normaliser : linear_normaliser;
  }
  return detail::divide_by_normaliser(numerator, normaliser).to(q.scalar_type());
}

}  // namespace

at::Tensor decode_step(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                       const HybridLayerWeights& weights, const HybridConfig& config, Mode mode,
                       HybridLayerState& state) {
  TORCH_CHECK(q.size(2) == 1, "decode_step takes one token, found T = ", q.size(2));
  prepare_state(q, k, v, weights, config, mode, state);
  const at::NoGradGuard no_grad;
  if (fused_step_applies(q, k, v, state, mode)) return fused_steps_in_dtype(q, k, v, weights, config, mode, state);
  return operators_step(q, k, v, weights, config, mode, state);
}

bool recurrent_continuation_preferred(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                      const HybridLayerWeights& weights, Mode mode, const HybridLayerState& state) {
  if (at::GradMode::is_enabled()) {
    // The kernel records no graph: anything that wants a gradient takes the chunked form.
    for (const at::Tensor* t : {&q, &k, &v, &weights.feature_q, &weights.feature_k, &weights.bias_q, &weights.bias_k,
                                &weights.mixing_logit}) {
      if (t->defined() && t->requires_grad()) return false;
    }
  }
  return fused_step_applies(q, k, v, state, mode);
}

at::Tensor continue_state(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                          const HybridLayerWeights& weights, const HybridConfig& config, Mode mode,
                          HybridLayerState& state) {
  if (recurrent_continuation_preferred(q, k, v, weights, mode, state)) {
    return detail::continue_recurrent(q, k, v, weights, config, mode, state);
  }
  return continue_chunked(q, k, v, weights, config, mode, state);
}

namespace detail {

at::Tensor decode_step_with_operators(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                      const HybridLayerWeights& weights, const HybridConfig& config, Mode mode,
                                      HybridLayerState& state) {
  TORCH_CHECK(q.size(2) == 1, "decode_step takes one token, found T = ", q.size(2));
  prepare_state(q, k, v, weights, config, mode, state);
  const at::NoGradGuard no_grad;
  return operators_step(q, k, v, weights, config, mode, state);
}

at::Tensor continue_recurrent(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                              const HybridLayerWeights& weights, const HybridConfig& config, Mode mode,
                              HybridLayerState& state) {
  prepare_state(q, k, v, weights, config, mode, state);
  TORCH_CHECK(fused_step_applies(q, k, v, state, mode),
              "continue_recurrent runs float32 or float64 on the CPU in a mode with attention; got ",
              q.scalar_type(), " on ", q.device(), " in mode ", mode_name(mode));
  const at::NoGradGuard no_grad;
  return fused_steps_in_dtype(q, k, v, weights, config, mode, state);
}

}  // namespace detail

}  // namespace lincat::attention
