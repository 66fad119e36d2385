// The decoder against logits computed by Hugging Face transformers 4.45.1 (tests/data/hf-reference,
// tolerance from its README: max |logits - expected| <= 1e-4 in float32; greedy tokens exact).
#include <gtest/gtest.h>

#include "lincat/generate/generate.h"
#include "lincat/io/hf_config.h"
#include "lincat/io/tensor_io.h"
#include "lincat/model/decoder.h"
#include "test_paths.h"

namespace {

const std::string kFixtures = LINCAT_TEST_DATA "/hf-reference/";
constexpr double kTolerance = 1e-4;

std::vector<std::vector<int64_t>> fixture_inputs(const std::string& fixture) {
  const auto json = lincat::io::read_json_file(kFixtures + fixture + "/inputs.json");
  return json.at("sequences").get<std::vector<std::vector<int64_t>>>();
}

struct Case {
  std::string fixture;
  std::string weights;   // file inside the fixture directory
  std::string expected;  // file inside the fixture directory
};

class HfReference : public ::testing::TestWithParam<Case> {
 protected:
  std::shared_ptr<const lincat::Model> load() const {
    lincat::LoadOptions options;
    options.weights_file = kFixtures + GetParam().fixture + "/" + GetParam().weights;
    return lincat::load_model(kFixtures + GetParam().fixture, options);
  }
  std::map<std::string, at::Tensor> expected() const {
    return lincat::io::load_safetensors_map(kFixtures + GetParam().fixture + "/" + GetParam().expected);
  }
};

TEST_P(HfReference, ReproducesLogitsOfBothSequences) {
  const Case& c = GetParam();
  const auto model = load();
  const auto reference_outputs = expected();
  const auto sequences = fixture_inputs(c.fixture);
  ASSERT_EQ(sequences.size(), 2u);
  torch::NoGradGuard no_grad;
  for (size_t k = 0; k < sequences.size(); ++k) {
    const at::Tensor ids = torch::tensor(sequences[k], torch::kInt64).unsqueeze(0);  // [1, T]
    const at::Tensor logits = lincat::forward(*model, ids)[0];                       // [T, V]
    const at::Tensor& reference = reference_outputs.at("logits_" + std::to_string(k));
    ASSERT_EQ(logits.sizes(), reference.sizes());
    const double error = (logits - reference).abs().max().item<double>();
    EXPECT_LE(error, kTolerance) << c.fixture << " sequence " << k;
  }
}

TEST_P(HfReference, GreedyGenerationMatches) {
  const Case& c = GetParam();
  const auto model = load();
  const auto reference_outputs = expected();
  lincat::GenerationOptions generation;
  generation.max_new_tokens = 8;
  const auto result = lincat::generate(*model, fixture_inputs(c.fixture)[0], generation);
  const at::Tensor& greedy = reference_outputs.at("greedy_0");
  const std::vector<int64_t> reference(greedy.data_ptr<int64_t>(), greedy.data_ptr<int64_t>() + greedy.numel());
  EXPECT_EQ(result.new_ids, reference);
}

// Prefill then one-token decode steps through the KV cache equal the full forward; with a
// sliding window this also exercises the cache dropping keys that left the window.
TEST_P(HfReference, PrefillThenDecodeEqualsFullForward) {
  const Case& c = GetParam();
  const auto model = load();
  const std::vector<int64_t> sequence = fixture_inputs(c.fixture)[1];
  const at::Tensor ids = torch::tensor(sequence, torch::kInt64).unsqueeze(0);  // [1, 48]
  torch::NoGradGuard no_grad;
  const at::Tensor full = lincat::forward(*model, ids);                        // [1, 48, V]
  for (int64_t prefill : {1, 5, 20}) {
    lincat::DecodeState state(model->config.num_layers, lincat::attention::Mode::Softmax);
    std::vector<at::Tensor> pieces{lincat::forward(*model, ids.narrow(1, 0, prefill), state)};
    for (int64_t t = prefill; t < ids.size(1); ++t) pieces.push_back(lincat::forward(*model, ids.narrow(1, t, 1), state));
    const at::Tensor stepped = torch::cat(pieces, 1);
    EXPECT_LE((stepped - full).abs().max().item<double>(), kTolerance) << "prefill " << prefill;
    EXPECT_EQ(state.position, ids.size(1));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, HfReference,
    ::testing::Values(Case{"llama-gqa", "model.safetensors", "expected.safetensors"},
                      Case{"llama-gqa", "model-bf16.safetensors", "expected-bf16.safetensors"},
                      Case{"mistral-swa", "model.safetensors", "expected.safetensors"}),
    [](const ::testing::TestParamInfo<Case>& info) {
      std::string name = info.param.fixture + "_" + info.param.weights;
      for (char& ch : name) if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
      return name;
    });

TEST(SlidingWindowCache, StaysBoundedByTheWindow) {
  const auto model = lincat::load_model(kFixtures + "mistral-swa");
  lincat::DecodeState state(model->config.num_layers, lincat::attention::Mode::Softmax);
  torch::NoGradGuard no_grad;
  lincat::forward(*model, torch::zeros({1, 4}, torch::kInt64), state);
  for (int i = 0; i < 200; ++i) lincat::forward(*model, torch::zeros({1, 1}, torch::kInt64), state);
  const int64_t window = *model->config.sliding_window;
  for (const auto& layer : state.layers) {
    EXPECT_LE(layer.softmax.length, window);
    EXPECT_LE(layer.softmax.keys.size(2), 4 * window);
  }
}

}  // namespace
