// Converted models: convert-init output, the "lincat" config section, loading, and the decoder in
// every attention mode (prefill + decode equals the full forward; softmax equals the original).
#include <gtest/gtest.h>

#include "lincat/generate/generate.h"
#include "lincat/io/hf_config.h"
#include "lincat/io/tensor_io.h"
#include "lincat/model/converted_model.h"
#include "lincat/model/decoder.h"
#include "support/editable_model.h"
#include "support/temp_dir.h"
#include "support/trained_looking.h"
#include "support/user_error.h"
#include "test_paths.h"

namespace {

using lincat::attention::Mode;
using lincat::test::contains;
using lincat::test::user_error_message;

const std::string kLlama = LINCAT_TEST_DATA "/hf-reference/llama-gqa";
const std::string kMistral = LINCAT_TEST_DATA "/hf-reference/mistral-swa";

lincat::attention::HybridConfig small_hybrid() {
  lincat::attention::HybridConfig h;
  h.window = 8;
  h.feature_dim = 8;
  h.sinks = 2;
  return h;
}

// A converted copy of a fixture with feature maps and mixing logits moved off their identity
// initialisation, so that every branch carries weight.
std::string write_converted(const lincat::test::TempDir& dir, const std::string& source,
                            const lincat::attention::HybridConfig& hybrid) {
  const auto original = lincat::load_model(source);
  auto converted = lincat::convert_init(*original, hybrid);
  lincat::test::perturb_hybrid_weights(*converted, 3);
  lincat::save_model(*converted, dir.path());
  return dir.path();
}

TEST(ConvertedModel, ConfigSectionRoundTrips) {
  lincat::test::TempDir dir;
  lincat::attention::HybridConfig hybrid = small_hybrid();
  hybrid.layout = lincat::attention::Layout::Terraced;
  hybrid.feature_map = lincat::attention::FeatureMapKind::T2R;
  write_converted(dir, kLlama, hybrid);
  const auto config = lincat::io::load_model_config(dir.file("config.json"));
  ASSERT_TRUE(config.hybrid.has_value());
  EXPECT_EQ(config.hybrid->window, 8);
  EXPECT_EQ(config.hybrid->sinks, 2);
  EXPECT_EQ(config.hybrid->layout, lincat::attention::Layout::Terraced);
  EXPECT_EQ(config.hybrid->feature_map, lincat::attention::FeatureMapKind::T2R);
  EXPECT_EQ(config.default_mode, Mode::Hybrid);
  // The original fields survive (transformers still reads the file).
  const auto json = lincat::io::read_json_file(dir.file("config.json"));
  EXPECT_EQ(json.at("transformers_version"), "4.45.1");
  const auto tensors = lincat::io::load_safetensors_map(dir.file("model.safetensors"));
  EXPECT_EQ(tensors.at("model.layers.1.self_attn.feature_map_q.weight").sizes(), (std::vector<int64_t>{4, 16, 8}));
  EXPECT_EQ(tensors.at("model.layers.1.self_attn.feature_map_k.bias").sizes(), (std::vector<int64_t>{4, 8}));
  EXPECT_EQ(tensors.at("model.layers.0.self_attn.mixing_logit").sizes(), (std::vector<int64_t>{4}));
}

TEST(ConvertedModel, IdentityInitialisationAsDocumented) {
  const auto original = lincat::load_model(kLlama);
  const auto converted = lincat::convert_init(*original, small_hybrid());
  const auto& h = converted->weights.layers[0].hybrid;
  EXPECT_TRUE(torch::allclose(torch::sigmoid(h.mixing_logit), torch::full({4}, 0.1), 1e-6, 1e-6));
  EXPECT_TRUE(torch::equal(h.feature_q[2], torch::eye(16, 8)));
  EXPECT_TRUE(user_error_message([&] { lincat::convert_init(*converted, small_hybrid()); }).find("already converted") !=
              std::string::npos);
}

TEST(ConvertedModel, SoftmaxModeIsTheOriginalModel) {
  lincat::test::TempDir dir;
  const auto converted = lincat::load_model(write_converted(dir, kMistral, small_hybrid()));
  const auto original = lincat::load_model(kMistral);
  torch::NoGradGuard no_grad;
  const at::Tensor ids = torch::randint(512, {1, 40}, torch::kInt64);
  EXPECT_TRUE(torch::equal(lincat::forward(*converted, ids, Mode::Softmax), lincat::forward(*original, ids)));
  EXPECT_FALSE(torch::allclose(lincat::forward(*converted, ids, Mode::Hybrid), lincat::forward(*original, ids)));
}

class EveryMode : public ::testing::TestWithParam<Mode> {};

// Prefill n tokens, then decode one at a time: equals the full forward of all tokens (chunked
// form vs recurrent form through the whole decoder).
TEST_P(EveryMode, PrefillThenDecodeEqualsFullForward) {
  for (const auto layout : {lincat::attention::Layout::Standard, lincat::attention::Layout::Terraced}) {
    lincat::test::TempDir dir;
    lincat::attention::HybridConfig hybrid = small_hybrid();
    hybrid.layout = layout;
    const auto model = lincat::load_model(write_converted(dir, kLlama, hybrid));
    torch::NoGradGuard no_grad;
    const at::Tensor ids = torch::randint(512, {1, 37}, torch::kInt64);  // not a multiple of w
    const at::Tensor full = lincat::forward(*model, ids, GetParam());   // [1, 37, V]
    for (int64_t prefill : {3, 8, 20}) {
      lincat::DecodeState state(model->config.num_layers, GetParam());
      std::vector<at::Tensor> pieces{lincat::forward(*model, ids.narrow(1, 0, prefill), state)};
      for (int64_t t = prefill; t < ids.size(1); ++t) pieces.push_back(lincat::forward(*model, ids.narrow(1, t, 1), state));
      EXPECT_LE((torch::cat(pieces, 1) - full).abs().max().item<double>(), 1e-4)
          << lincat::attention::mode_name(GetParam()) << " layout " << lincat::attention::layout_name(layout)
          << " prefill " << prefill;
    }
  }
}

// Prefill, then blocks of several tokens that continue the state (the chunked continuation, as
// eval's scorer uses it): equals the full forward.
TEST_P(EveryMode, PrefillThenBlocksEqualsFullForward) {
  for (const auto layout : {lincat::attention::Layout::Standard, lincat::attention::Layout::Terraced}) {
    lincat::test::TempDir dir;
    lincat::attention::HybridConfig hybrid = small_hybrid();
    hybrid.layout = layout;
    const auto model = lincat::load_model(write_converted(dir, kLlama, hybrid));
    torch::NoGradGuard no_grad;
    const at::Tensor ids = torch::randint(512, {2, 37}, torch::kInt64);  // batch 2
    const at::Tensor full = lincat::forward(*model, ids, GetParam());   // [2, 37, V]
    lincat::DecodeState state(model->config.num_layers, GetParam());
    std::vector<at::Tensor> pieces;
    int64_t first = 0;
    for (const int64_t count : {5, 2, 9, 1, 13, 7}) {
      pieces.push_back(lincat::forward(*model, ids.narrow(1, first, count), state));
      first += count;
    }
    ASSERT_EQ(first, ids.size(1));
    EXPECT_LE((torch::cat(pieces, 1) - full).abs().max().item<double>(), 1e-4)
        << lincat::attention::mode_name(GetParam()) << " layout " << lincat::attention::layout_name(layout);
  }
}

TEST_P(EveryMode, GenerationRuns) {
  lincat::test::TempDir dir;
  const auto model = lincat::load_model(write_converted(dir, kLlama, small_hybrid()));
  lincat::GenerationOptions options;
  options.max_new_tokens = 5;
  options.mode = GetParam();
  const auto result = lincat::generate(*model, {5, 6, 7, 8, 9, 10, 11, 12, 13, 14}, options);
  EXPECT_EQ(result.new_ids.size(), 5u);
}

INSTANTIATE_TEST_SUITE_P(Modes, EveryMode,
                         ::testing::Values(Mode::Softmax, Mode::Hybrid, Mode::Window, Mode::Linear, Mode::Sinks,
                                           Mode::None, Mode::Overlap),
                         [](const ::testing::TestParamInfo<Mode>& info) {
                           return lincat::attention::mode_name(info.param);
                         });

TEST(ConvertedModel, HybridStateDoesNotGrowWithContext) {
  lincat::test::TempDir dir;
  const auto model = lincat::load_model(write_converted(dir, kLlama, small_hybrid()));
  torch::NoGradGuard no_grad;
  lincat::DecodeState state(model->config.num_layers, Mode::Hybrid);
  lincat::forward(*model, torch::randint(512, {1, 20}, torch::kInt64), state);
  const int64_t bytes = state.bytes();
  for (int i = 0; i < 100; ++i) lincat::forward(*model, torch::randint(512, {1, 1}, torch::kInt64), state);
  EXPECT_EQ(state.bytes(), bytes);
}

TEST(ConvertedModel, OriginalModelRefusesHybridModes) {
  const auto model = lincat::load_model(kLlama);
  EXPECT_TRUE(contains(user_error_message([&] { lincat::forward(*model, torch::ones({1, 2}, torch::kInt64), Mode::Linear); }),
                       "convert it first"));
}

// A converted model written once per test, then opened for edits.
struct EditableConverted : lincat::test::EditableModel {
  EditableConverted() : lincat::test::EditableModel(converted_source()) {}
  static std::string converted_source() {
    static lincat::test::TempDir dir;
    static const std::string path = write_converted(dir, kLlama, small_hybrid());
    return path;
  }
};

TEST(ConvertedModel, RefusesUnknownAttentionKind) {
  EditableConverted m;
  m.config["lincat"]["attention"] = "mamba";
  const std::string dir = m.write();
  EXPECT_TRUE(contains(user_error_message([&] { lincat::load_model(dir); }), "attention kind 'mamba' is not supported"));
}

TEST(ConvertedModel, RefusesUnknownFeatureMapNamingTheFile) {
  EditableConverted m;
  m.config["lincat"]["feature_map"] = "cosformer";
  const std::string dir = m.write();
  const std::string message = user_error_message([&] { lincat::load_model(dir); });
  EXPECT_TRUE(contains(message, "config.json"));
  EXPECT_TRUE(contains(message, "cosformer"));
}

TEST(ConvertedModel, RefusesFeatureMapOfTheWrongShape) {
  EditableConverted m;
  m.tensor("model.layers.0.self_attn.feature_map_k.weight") = torch::zeros({4, 16, 6});
  const std::string dir = m.write();
  EXPECT_TRUE(contains(user_error_message([&] { lincat::load_model(dir); }),
                       "tensor 'model.layers.0.self_attn.feature_map_k.weight' has shape [4, 16, 6], expected [4, 16, 8]"));
}

TEST(ConvertedModel, RefusesMissingHybridTensors) {
  EditableConverted m;
  m.remove_tensor("model.layers.1.self_attn.mixing_logit");
  const std::string dir = m.write();
  EXPECT_TRUE(contains(user_error_message([&] { lincat::load_model(dir); }),
                       "missing tensors: model.layers.1.self_attn.mixing_logit"));
}

TEST(ConvertedModel, OriginalCheckpointWithHybridTensorsButNoSectionIsRefused) {
  EditableConverted m;
  m.config.erase("lincat");
  const std::string dir = m.write();
  EXPECT_TRUE(contains(user_error_message([&] { lincat::load_model(dir); }), "unexpected tensors"));
}

}  // namespace
