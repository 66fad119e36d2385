#include "lincat/kernels/hybrid_decode_cpu.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "lincat/kernels/vector_ops_cpu.h"

namespace lincat::kernels {
namespace {

// Hedgehog kinds clamp their features here (attention/feature_map.h's kHedgehogFeatureFloor).
constexpr double kHedgehogFloor = 1e-12;

// x A for A [d, f] of head `head` into xa [f].
template <typename T>
void project_head(const HybridDecodeStep<T>& s, const T* x, const T* projection, int64_t head, T* xa) {
  const int64_t d = s.head_dim, f = s.projection_dim;
  std::fill(xa, xa + f, T(0));
  for (int64_t i = 0; i < d; ++i) axpy(f, x[i], projection + (head * d + i) * f, xa);
}

// phi(x) of head `head` into features [F] (attention/feature_map.h's definitions): x [d].
// `scratch` holds f values.
template <typename T>
void feature_map(const HybridDecodeStep<T>& s, const T* x, const T* projection, const T* bias, int64_t head,
                 T* features, std::vector<T>& scratch) {
  using attention::FeatureMapKind;
  const int64_t d = s.head_dim, f = s.projection_dim;
  T* xa = scratch.data();
  switch (s.feature_map) {
    case FeatureMapKind::Elu1:
      for (int64_t i = 0; i < d; ++i) features[i] = x[i] > 0 ? T(1) + x[i] : std::exp(x[i]);
      return;
    case FeatureMapKind::Relu:
      for (int64_t i = 0; i < d; ++i) features[i] = std::max(x[i], T(0));
      return;
    case FeatureMapKind::T2R: {
      project_head(s, x, projection, head, xa);
      const T* b = bias + head * f;
      for (int64_t j = 0; j < f; ++j) features[j] = std::max(xa[j] + b[j], T(0));
      return;
    }
    case FeatureMapKind::HedgehogExp: {
      project_head(s, x, projection, head, xa);
      const auto [low, high] = std::minmax_element(xa, xa + f);
      const T shift = std::max(std::abs(*low), std::abs(*high));  // one shift for both halves
      for (int64_t j = 0; j < f; ++j) {
        features[j] = std::exp(xa[j] - shift);
        features[f + j] = std::exp(-xa[j] - shift);
      }
      return;
    }
    case FeatureMapKind::Hedgehog: {
      // softmax(xA) and softmax(-xA), each shifted by its own maximum, then the floor.
      project_head(s, x, projection, head, xa);
      const auto [low, high] = std::minmax_element(xa, xa + f);
      T positive = 0, negative = 0;
      for (int64_t j = 0; j < f; ++j) {
        features[j] = std::exp(xa[j] - *high);
        features[f + j] = std::exp(*low - xa[j]);
        positive += features[j];
        negative += features[f + j];
      }
      const T floor = static_cast<T>(kHedgehogFloor);
      for (int64_t j = 0; j < f; ++j) {
        features[j] = std::max(features[j] / positive, floor);
        features[f + j] = std::max(features[f + j] / negative, floor);
      }
      return;
    }
  }
}

// S += phi v^T and z += phi for one head: phi [F], value [d], S [F, d], z [F].
template <typename T>
void fold(const T* phi, const T* value, int64_t features, int64_t d, T* state, T* normaliser) {
  for (int64_t i = 0; i < features; ++i) {
    axpy(d, phi[i], value, state + i * d);
    normaliser[i] += phi[i];
  }
}

}  // namespace

template <typename T>
void run_hybrid_decode_step(const HybridDecodeStep<T>& s) {
  const int64_t B = s.batch, H = s.heads, Hkv = s.kv_heads, d = s.head_dim, F = s.features;
  const int64_t group = H / Hkv;
  std::vector<T> phi(static_cast<size_t>(F)), scratch(static_cast<size_t>(std::max<int64_t>(s.projection_dim, 1)));

  // 1. Keys that enter the linear set, before the ring slot of the oldest is overwritten.
  if (s.linear_branch) {
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t h = 0; h < H; ++h) {
        const int64_t kv = b * Hkv + h / group;
        T* state = s.linear_state + (b * H + h) * F * d;
        T* normaliser = s.linear_normaliser + (b * H + h) * F;
        for (const int64_t slot : s.entering_slots) {
          const int64_t row = (kv * s.capacity + slot) * d;
          feature_map(s, s.ring_keys + row, s.feature_k, s.bias_k, h, phi.data(), scratch);
          fold(phi.data(), s.ring_values + row, F, d, state, normaliser);
        }
        if (s.fold_own_key) {
          feature_map(s, s.k + kv * d, s.feature_k, s.bias_k, h, phi.data(), scratch);
          fold(phi.data(), s.v + kv * d, F, d, state, normaliser);
        }
      }
    }
  }
  // 2. The new key and value into the ring and the sink buffer.
  for (int64_t kv = 0; kv < B * Hkv; ++kv) {
    if (s.ring_slot >= 0) {
      std::copy(s.k + kv * d, s.k + (kv + 1) * d, s.ring_keys + (kv * s.capacity + s.ring_slot) * d);
      std::copy(s.v + kv * d, s.v + (kv + 1) * d, s.ring_values + (kv * s.capacity + s.ring_slot) * d);
    }
    if (s.sink_slot >= 0) {
      std::copy(s.k + kv * d, s.k + (kv + 1) * d, s.sink_keys + (kv * s.sinks + s.sink_slot) * d);
      std::copy(s.v + kv * d, s.v + (kv + 1) * d, s.sink_values + (kv * s.sinks + s.sink_slot) * d);
    }
  }
  // 3. The output: gamma * sum_j exp(s_j - c) v_j + phi_q S over gamma * sum_j exp(s_j - c) + phi_q z,
  // with c the largest score of the softmax set.
  const T scale = T(1) / std::sqrt(static_cast<T>(d));
  std::vector<T> scores(static_cast<size_t>(s.capacity + s.sinks));
  std::vector<T> numerator(static_cast<size_t>(d));
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t h = 0; h < H; ++h) {
      const int64_t kv = b * Hkv + h / group;
      const T* query = s.q + (b * H + h) * d;
      std::fill(numerator.begin(), numerator.end(), T(0));
      T denominator = 0;
      if (s.softmax_branch) {
        // Scores of the included slots (ring, then sinks), their maximum, then the weighted sum.
        T largest = -std::numeric_limits<T>::infinity();
        auto score_slots = [&](const T* keys, const std::vector<char>& included, int64_t count, T* out) {
          for (int64_t j = 0; j < count; ++j) {
            if (!included[static_cast<size_t>(j)]) continue;
            out[j] = dot(d, query, keys + (kv * count + j) * d) * scale;
            largest = std::max(largest, out[j]);
          }
        };
        T* ring_scores = scores.data();
        T* sink_scores = scores.data() + s.capacity;
        if (s.ring_keys) score_slots(s.ring_keys, s.ring_in_softmax, s.capacity, ring_scores);
        if (s.sink_keys) score_slots(s.sink_keys, s.sink_in_softmax, s.sinks, sink_scores);
        const T weight = s.gamma ? s.gamma[h] : T(1);
        auto add_slots = [&](const T* values, const std::vector<char>& included, int64_t count, const T* slot_scores) {
          for (int64_t j = 0; j < count; ++j) {
            if (!included[static_cast<size_t>(j)]) continue;
            const T e = std::exp(slot_scores[j] - largest);
            const T* value = values + (kv * count + j) * d;
            axpy(d, weight * e, value, numerator.data());
            denominator += weight * e;
          }
        };
        if (s.ring_keys) add_slots(s.ring_values, s.ring_in_softmax, s.capacity, ring_scores);
        if (s.sink_keys) add_slots(s.sink_values, s.sink_in_softmax, s.sinks, sink_scores);
      }
      if (s.linear_branch) {
        feature_map(s, query, s.feature_q, s.bias_q, h, phi.data(), scratch);
        const T* state = s.linear_state + (b * H + h) * F * d;
        const T* normaliser = s.linear_normaliser + (b * H + h) * F;
        for (int64_t i = 0; i < F; ++i) axpy(d, phi[static_cast<size_t>(i)], state + i * d, numerator.data());
        denominator += dot(F, phi.data(), normaliser);
      }
      const T floored = std::max(denominator, static_cast<T>(s.denominator_floor));
      T* out = s.out + (b * H + h) * d;
      for (int64_t c = 0; c < d; ++c) out[c] = numerator[static_cast<size_t>(c)] / floored;
    }
  }
}

template void run_hybrid_decode_step<float>(const HybridDecodeStep<float>&);
template void run_hybrid_decode_step<double>(const HybridDecodeStep<double>&);

}  // namespace lincat::kernels
