// model/decode_row.h: a decode step on raw buffers gives the operator path's logits bit for bit, in
// every attention mode and layout, with and without LoRA adapters, from an empty state and after a
// prompt, past the window; and it is taken exactly where it applies.
#include "lincat/model/decode_row.h"

#include <gtest/gtest.h>

#include "lincat/model/converted_model.h"
#include "lincat/model/decoder.h"
#include "lincat/train/lora.h"
#include "support/trained_looking.h"
#include "support/user_error.h"
#include "test_paths.h"

namespace {

using lincat::attention::Layout;
using lincat::attention::Mode;

const std::string kLlama = LINCAT_TEST_DATA "/hf-reference/llama-gqa";
const std::string kMistral = LINCAT_TEST_DATA "/hf-reference/mistral-swa";  // sliding window 16

// A converted fixture whose feature maps, mixing logits and (optionally) LoRA adapters on every
// projection are off their initial values, so that every branch and every adapter carries weight.
std::shared_ptr<lincat::Model> converted_fixture(Layout layout, bool lora) {
  const auto original = lincat::load_model(kLlama);
  lincat::attention::HybridConfig hybrid;
  hybrid.window = 4;
  hybrid.feature_dim = 8;
  hybrid.sinks = 1;
  hybrid.layout = layout;
  auto model = lincat::convert_init(*original, hybrid);
  lincat::test::perturb_hybrid_weights(*model, 11);
  const torch::NoGradGuard no_grad;
  if (lora) {
    lincat::train::LoraSettings settings;
    settings.targets = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
    settings.rank = 4;
    lincat::train::add_lora(*model, settings);
    for (auto& layer : model->weights.layers) {
      for (const std::string& target : settings.targets) {
        lincat::LoraAdapter& adapter = lincat::lora_adapter(layer, target);
        adapter.b = 0.1 * torch::randn_like(adapter.b);
      }
    }
  }
  return model;
}

// `prefix` prompt tokens, then `steps` tokens one at a time, through forward (decode_row for the
// single tokens) and through the operator path, side by side on two states.
void expect_same_bits(const lincat::Model& model, Mode mode, int64_t prefix, int64_t steps, const std::string& what) {
  const torch::NoGradGuard no_grad;
  torch::manual_seed(static_cast<uint64_t>(prefix + 7));
  const at::Tensor ids = torch::randint(model.config.vocab_size, {1, prefix + steps}, torch::kInt64);
  lincat::DecodeState fast(model.config.num_layers, mode), slow(model.config.num_layers, mode);
  if (prefix > 0) {
    const at::Tensor prompt = ids.narrow(1, 0, prefix);
    ASSERT_TRUE(at::equal(lincat::forward(model, prompt, fast),
                          lincat::detail::forward_with_operators(model, prompt, mode, &slow)));
  }
  for (int64_t t = prefix; t < prefix + steps; ++t) {
    const at::Tensor token = ids.narrow(1, t, 1);  // [1, 1]
    ASSERT_TRUE(lincat::decode_row_applies(model, token, &fast)) << what;
    const at::Tensor logits = lincat::forward(model, token, fast);
    const at::Tensor expected = lincat::detail::forward_with_operators(model, token, mode, &slow);
    ASSERT_EQ(logits.sizes(), expected.sizes());
    EXPECT_TRUE(at::equal(logits, expected)) << what << ", token " << t << ": max difference "
                                             << (logits - expected).abs().max().item<float>();
  }
  EXPECT_EQ(fast.position, prefix + steps);
  EXPECT_EQ(slow.position, prefix + steps);
}

TEST(DecodeRow, EqualsTheOperatorPathBitForBitInEveryModeLayoutAndWithLora) {
  for (const Layout layout : {Layout::Standard, Layout::Terraced}) {
    for (const bool lora : {false, true}) {
      const auto model = converted_fixture(layout, lora);
      for (const Mode mode : lincat::attention::all_modes()) {
        for (const int64_t prefix : {0, 5}) {
          const std::string what = lincat::attention::mode_name(mode) + (layout == Layout::Terraced ? ", terraced" : "") +
                                   (lora ? ", LoRA" : "") + ", prefix " + std::to_string(prefix);
          expect_same_bits(*model, mode, prefix, 11, what);  // past w = 4 and the terraced 2w
        }
      }
    }
  }
}

TEST(DecodeRow, EqualsTheOperatorPathForASlidingWindowModelPastItsWindow) {
  const auto model = lincat::load_model(kMistral);
  expect_same_bits(*model, Mode::Softmax, 3, 20, "mistral-swa");  // 23 tokens > window 16: keys evicted
}

TEST(DecodeRow, AppliesOnlyToOneFloat32TokenWithoutAGraph) {
  const auto model = lincat::load_model(kLlama);
  const auto model64 = lincat::load_model(kLlama, {torch::kCPU, at::kDouble});
  lincat::DecodeState state(model->config.num_layers, Mode::Softmax);
  const at::Tensor token = torch::tensor({{3}}, torch::kInt64);
  {
    const torch::NoGradGuard no_grad;
    EXPECT_TRUE(lincat::decode_row_applies(*model, token, &state));
    EXPECT_FALSE(lincat::decode_row_applies(*model, token, nullptr));
    EXPECT_FALSE(lincat::decode_row_applies(*model, torch::tensor({{3, 4}}, torch::kInt64), &state));
    EXPECT_FALSE(lincat::decode_row_applies(*model, torch::tensor({{3}}, torch::kInt32), &state));
    EXPECT_FALSE(lincat::decode_row_applies(*model64, token, &state));
  }
  const at::AutoGradMode grad(true);
  EXPECT_FALSE(lincat::decode_row_applies(*model, token, &state));
}

TEST(DecodeRow, RefusesATokenOutsideTheVocabulary) {
  const auto model = lincat::load_model(kLlama);
  const torch::NoGradGuard no_grad;
  lincat::DecodeState state(model->config.num_layers, Mode::Softmax);
  const std::string message = lincat::test::user_error_message([&] { lincat::decode_row(*model, 512, state); });
  EXPECT_NE(message.find("outside the vocabulary"), std::string::npos) << message;
  EXPECT_EQ(state.position, 0);
}

}  // namespace
