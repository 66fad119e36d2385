// Loading refuses every malformed model with a message naming the file or tensor.
#include <gtest/gtest.h>

#include "lincat/io/hf_config.h"
#include "lincat/io/tensor_io.h"
#include "lincat/model/decoder.h"
#include "support/editable_model.h"
#include "support/user_error.h"
#include "test_paths.h"

namespace {

using lincat::test::contains;
using lincat::test::user_error_message;

const std::string kLlama = LINCAT_TEST_DATA "/hf-reference/llama-gqa";

struct EditableModel : lincat::test::EditableModel {
  EditableModel() : lincat::test::EditableModel(kLlama) {}
};

TEST(LoadModel, LoadsAllFixtureTensorsWithoutCopyingF32) {
  const auto model = lincat::load_model(kLlama);
  EXPECT_EQ(model->stored_dtypes.at("F32"), 21);
  EXPECT_EQ(model->weights.layers.size(), 2u);
  EXPECT_EQ(model->weights.lm_head.sizes(), (std::vector<int64_t>{512, 64}));
}

TEST(LoadModel, RefusesMissingDirectory) {
  EXPECT_TRUE(contains(user_error_message([] { lincat::load_model("/nonexistent/model"); }),
                       "/nonexistent/model: model directory not found"));
}

TEST(LoadModel, RefusesShapeThatDisagreesWithConfig) {
  EditableModel m;
  m.config["intermediate_size"] = 128;
  const std::string dir = m.write();
  const std::string message = user_error_message([&] { lincat::load_model(dir); });
  EXPECT_TRUE(contains(message, "tensor 'model.layers.0.mlp.gate_proj.weight' has shape [176, 64], expected [128, 64]"));
  EXPECT_TRUE(contains(message, "model.safetensors"));
}

TEST(LoadModel, ListsMissingTensors) {
  EditableModel m;
  m.remove_tensor("model.norm.weight");
  const std::string dir = m.write();
  EXPECT_TRUE(contains(user_error_message([&] { lincat::load_model(dir); }), "missing tensors: model.norm.weight"));
}

TEST(LoadModel, ListsUnexpectedTensors) {
  EditableModel m;
  m.tensors.emplace_back("model.layers.2.self_attn.q_proj.weight", torch::zeros({64, 64}));
  const std::string dir = m.write();
  EXPECT_TRUE(contains(user_error_message([&] { lincat::load_model(dir); }),
                       "unexpected tensors: model.layers.2.self_attn.q_proj.weight"));
}

TEST(LoadModel, RefusesUnknownArchitecture) {
  EditableModel m;
  m.config["architectures"] = {"BertModel"};
  const std::string dir = m.write();
  EXPECT_TRUE(contains(user_error_message([&] { lincat::load_model(dir); }), "architecture 'BertModel' is not supported"));
}

TEST(LoadModel, RefusesConfigMissingARequiredField) {
  EditableModel m;
  m.config.erase("hidden_size");
  const std::string dir = m.write();
  const std::string message = user_error_message([&] { lincat::load_model(dir); });
  EXPECT_TRUE(contains(message, "config.json: field 'hidden_size' is missing"));
}

TEST(LoadModel, RefusesNaNInWeights) {
  EditableModel m;
  m.tensor("model.layers.1.mlp.up_proj.weight")[3][7] = std::nan("");
  const std::string dir = m.write();
  const std::string message = user_error_message([&] { lincat::load_model(dir); });
  EXPECT_TRUE(contains(message, "model.layers.1.mlp.up_proj.weight"));
  EXPECT_TRUE(contains(message, "NaN"));
}

TEST(LoadModel, RefusesInfInWeights) {
  EditableModel m;
  m.tensor("model.embed_tokens.weight")[0][0] = std::numeric_limits<float>::infinity();
  const std::string dir = m.write();
  EXPECT_TRUE(contains(user_error_message([&] { lincat::load_model(dir); }), "model.embed_tokens.weight"));
}

TEST(LoadModel, TiedEmbeddingsShareOneTensor) {
  EditableModel m;
  m.config["tie_word_embeddings"] = true;
  m.remove_tensor("lm_head.weight");
  const auto model = lincat::load_model(m.write());
  EXPECT_TRUE(model->weights.lm_head.is_same(model->weights.embed_tokens));
}

TEST(LoadModel, ConvertsToTheComputeDtype) {
  lincat::LoadOptions options;
  options.dtype = at::kBFloat16;
  const auto model = lincat::load_model(kLlama, options);
  EXPECT_EQ(model->weights.embed_tokens.scalar_type(), at::kBFloat16);
  torch::NoGradGuard no_grad;
  const at::Tensor logits = lincat::forward(*model, torch::tensor({{1, 2, 3}}, torch::kInt64));
  EXPECT_EQ(logits.scalar_type(), at::kFloat);
  EXPECT_TRUE(logits.isfinite().all().item<bool>());
}

TEST(LoadModel, RefusesAModelLargerThanThisMachineBeforeAllocating) {
  EditableModel m;  // every size within the per-field limit of 2^24, the model about 2^74 parameters
  for (const char* field : {"vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "head_dim"}) {
    m.config[field] = 1 << 24;
  }
  const std::string dir = m.write();
  const std::string message = user_error_message([&] { lincat::load_model(dir); });
  EXPECT_TRUE(contains(message, dir + "/config.json: the model (at least 9223372036854775807 parameters in float32)"));
  EXPECT_TRUE(contains(message, "this machine has"));
}

TEST(Forward, RefusesAContextThatCannotFitBeforeAllocating) {
  const auto model = lincat::load_model(kLlama);
  const at::Tensor ids = torch::zeros({1, 1000000}, torch::kInt64);  // 14.6 TiB of softmax scores
  torch::NoGradGuard no_grad;
  const std::string message =
      user_error_message([&] { lincat::forward(*model, ids, lincat::attention::Mode::Softmax); });
  EXPECT_TRUE(contains(message, "a forward pass over 1 x 1000000 tokens needs at least 14903.1 GiB"));
}

TEST(TokenIds, OutsideTheVocabularyAreRefused) {
  const auto model = lincat::load_model(kLlama);
  EXPECT_TRUE(contains(user_error_message([&] { lincat::check_token_ids(*model, {1, 512}, "--ids"); }),
                       "--ids: token id 512 is outside the vocabulary (0..511)"));
  EXPECT_TRUE(contains(user_error_message([&] { lincat::check_token_ids(*model, {-1}, "--ids"); }), "token id -1"));
}

}  // namespace
