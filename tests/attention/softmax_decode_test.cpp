// The decode-row kernel behind softmax_attention (kernels/softmax_decode_cpu.h) against the
// operators: one query row over keys held as a KV cache holds them (a prefix of a larger buffer),
// with and without a sliding window that cuts them, grouped heads, batches.
#include <gtest/gtest.h>

#include "lincat/attention/softmax.h"
#include "lincat/kernels/matvec_cpu.h"

namespace {

using lincat::attention::softmax_attention;
using lincat::attention::detail::softmax_attention_with_operators;

TEST(SoftmaxDecodeRow, EqualsTheOperatorsForEveryWindowGroupingAndCacheLayout) {
  if (!lincat::kernels::matvec_available()) GTEST_SKIP() << "this CPU has neither AVX2+FMA nor AVX-512";
  const torch::NoGradGuard no_grad;
  torch::manual_seed(2);
  struct Heads {
    int64_t h, kv;
  };
  for (const int64_t batch : {1, 2}) {
    for (const Heads heads : {Heads{4, 4}, Heads{4, 2}, Heads{6, 1}}) {
      for (const int64_t d : {16, 20, 64}) {
        for (const int64_t keys : {1, 7, 33}) {
          // The cache's buffer holds more rows than are valid, as KVCache does.
          const at::Tensor k_buffer = torch::randn({batch, heads.kv, keys + 5, d});
          const at::Tensor v_buffer = torch::randn({batch, heads.kv, keys + 5, d});
          const at::Tensor k = k_buffer.narrow(2, 0, keys), v = v_buffer.narrow(2, 0, keys);
          const at::Tensor q = torch::randn({batch, heads.h, 1, d}) * 2;
          const int64_t k_start = 10;
          for (const std::optional<int64_t> window : {std::optional<int64_t>{}, {1}, {5}, {100}}) {
            // The query right after the keys (a decode step) and one inside them (only some visible).
            for (const int64_t q_start : {k_start + keys - 1, k_start + keys / 2}) {
              const at::Tensor out = softmax_attention(q, k, v, q_start, k_start, window);
              const at::Tensor expected = softmax_attention_with_operators(q, k, v, q_start, k_start, window);
              EXPECT_TRUE(torch::allclose(out, expected, 1e-5, 1e-5))
                  << "batch " << batch << ", heads " << heads.h << "/" << heads.kv << ", d " << d << ", keys " << keys
                  << ", window " << window.value_or(0) << ", query at " << q_start;
            }
          }
        }
      }
    }
  }
}

// Under a graph, or with several query rows, softmax_attention is the operators exactly.
TEST(SoftmaxDecodeRow, GraphsAndBlocksTakeTheOperators) {
  const at::Tensor k = torch::randn({1, 2, 9, 16}), v = torch::randn({1, 2, 9, 16});
  const at::Tensor block = torch::randn({1, 4, 3, 16});
  EXPECT_TRUE(at::equal(softmax_attention(block, k, v, 6, 0, {}), softmax_attention_with_operators(block, k, v, 6, 0, {})));
  const at::Tensor row = torch::randn({1, 4, 1, 16}).requires_grad_(true);
  const at::Tensor out = softmax_attention(row, k, v, 8, 0, {});
  EXPECT_TRUE(out.requires_grad());
  EXPECT_TRUE(at::equal(out, softmax_attention_with_operators(row, k, v, 8, 0, {})));
}

}  // namespace
