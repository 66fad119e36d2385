// lincat export (peft, lolcats, merged) and the imports back: names, shapes and settings as the
// other tools expect them, round trips bit for bit (tensors and logits), and refusals with reasons.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "lincat/io/export_formats.h"
#include "lincat/io/hf_config.h"
#include "lincat/io/safetensors.h"
#include "lincat/io/tensor_io.h"
#include "lincat/model/converted_model.h"
#include "lincat/model/decoder.h"
#include "lincat/train/lora.h"
#include "lincat/util/atomic_file.h"
#include "support/run_program.h"
#include "support/temp_dir.h"
#include "support/trained_looking.h"
#include "support/user_error.h"
#include "test_paths.h"

namespace {

namespace fs = std::filesystem;
using lincat::test::contains;
using lincat::test::TempDir;
using lincat::test::user_error_message;

const std::string kLlama = LINCAT_TEST_DATA "/hf-reference/llama-gqa";  // H 4, Hkv 2, d 16, 2 layers

lincat::attention::HybridConfig small_hybrid() {
  lincat::attention::HybridConfig h;
  h.window = 8;
  h.feature_dim = 8;
  return h;
}

// A converted fixture with trained-looking tensors: feature maps and logits off their identity
// start, LoRA B non-zero, so that every exported tensor changes the logits.
std::string write_converted(const TempDir& dir, const lincat::attention::HybridConfig& hybrid, bool lora) {
  auto model = lincat::convert_init(*lincat::load_model(kLlama), hybrid);
  lincat::test::perturb_hybrid_weights(*model, 5);
  if (lora) {
    lincat::train::LoraSettings settings;
    settings.targets = {"q_proj", "v_proj", "down_proj"};
    settings.rank = 4;
    settings.alpha = 12;
    lincat::train::add_lora(*model, settings);
    for (auto& layer : model->weights.layers) {
      for (const std::string& target : settings.targets) {
        auto& adapter = lincat::lora_adapter(layer, target);
        adapter.b = 0.05 * torch::randn_like(adapter.b);
      }
    }
  }
  lincat::save_model(*model, dir.path());
  return dir.path();
}

std::map<std::string, at::Tensor> tensors_of(const std::string& model_dir) {
  return lincat::io::load_safetensors_map((fs::path(model_dir) / "model.safetensors").string());
}

// Same names, dtypes and bits.
void expect_identical_tensors(const std::string& a, const std::string& b) {
  const auto left = tensors_of(a), right = tensors_of(b);
  ASSERT_EQ(left.size(), right.size());
  for (const auto& [name, tensor] : left) {
    ASSERT_TRUE(right.count(name)) << name;
    EXPECT_EQ(tensor.scalar_type(), right.at(name).scalar_type()) << name;
    EXPECT_TRUE(torch::equal(tensor, right.at(name))) << name;
  }
}

at::Tensor logits(const std::string& model_dir) {
  const auto model = lincat::load_model(model_dir);
  torch::NoGradGuard no_grad;
  const at::Tensor ids = torch::arange(0, 40, torch::kInt64).remainder(model->config.vocab_size).unsqueeze(0);
  return lincat::forward(*model, ids);
}

TEST(ExportPeft, WritesPeftAdapterAndAttentionFile) {
  TempDir source, out;
  write_converted(source, small_hybrid(), true);
  lincat::io::ExportOptions options;
  options.base_model = "meta-llama/Meta-Llama-3-8B";
  lincat::io::export_model(source.path(), lincat::io::ExportFormat::Peft, out.path(), options);

  const auto config = lincat::io::read_json_file(out.file("adapter_config.json"));
  EXPECT_EQ(config.at("peft_type"), "LORA");
  EXPECT_EQ(config.at("task_type"), "CAUSAL_LM");
  EXPECT_EQ(config.at("r"), 4);
  EXPECT_EQ(config.at("lora_alpha"), 12);
  EXPECT_EQ(config.at("lora_dropout"), 0.0);
  EXPECT_EQ(config.at("target_modules"), nlohmann::json({"q_proj", "v_proj", "down_proj"}));
  EXPECT_EQ(config.at("base_model_name_or_path"), "meta-llama/Meta-Llama-3-8B");

  const auto adapters = lincat::io::load_safetensors_map(out.file("adapter_model.safetensors"));
  EXPECT_EQ(adapters.size(), 2u * 3u * 2u);  // layers x targets x {A, B}
  EXPECT_EQ(adapters.at("base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight").sizes().vec(),
            (std::vector<int64_t>{4, 64}));  // [r, in]
  EXPECT_EQ(adapters.at("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight").sizes().vec(),
            (std::vector<int64_t>{32, 4}));  // [out, r]: 2 kv heads x 16
  EXPECT_EQ(adapters.at("base_model.model.model.layers.0.mlp.down_proj.lora_A.weight").sizes().vec(),
            (std::vector<int64_t>{4, 176}));

  const auto attention_file = lincat::io::SafetensorsFile::open(out.file("lincat_attention.safetensors"));
  EXPECT_NE(attention_file->find("model.layers.0.self_attn.feature_map_q.weight"), nullptr);
  EXPECT_NE(attention_file->find("model.layers.1.self_attn.mixing_logit"), nullptr);
  const auto section = nlohmann::json::parse(attention_file->metadata().at("lincat"));
  EXPECT_EQ(section.at("window"), 8);
  EXPECT_FALSE(section.contains("lora"));
  EXPECT_TRUE(fs::exists(out.file("README.md")));
}

TEST(ExportPeft, RoundTripIsBitForBit) {
  TempDir source, exported, imported;
  write_converted(source, small_hybrid(), true);
  lincat::io::export_model(source.path(), lincat::io::ExportFormat::Peft, exported.path());
  const auto rebuilt = lincat::io::import_peft(*lincat::load_model(kLlama), exported.path());
  lincat::save_model(*rebuilt, imported.path());
  expect_identical_tensors(source.path(), imported.path());
  EXPECT_EQ(lincat::io::read_json_file(fs::path(source.path()) / "config.json").at("lincat"),
            lincat::io::read_json_file(fs::path(imported.path()) / "config.json").at("lincat"));
  EXPECT_TRUE(torch::equal(logits(source.path()), logits(imported.path())));
}

TEST(ExportPeft, RefusesModelWithoutAdapters) {
  TempDir source, out;
  write_converted(source, small_hybrid(), false);
  const std::string message = user_error_message(
      [&] { lincat::io::export_model(source.path(), lincat::io::ExportFormat::Peft, out.path()); });
  EXPECT_TRUE(contains(message, "no LoRA adapters"));
  EXPECT_TRUE(contains(message, "export the merged or lolcats format"));
}

TEST(ExportPeft, ImportRefusesOtherLoraKinds) {
  TempDir source, exported;
  write_converted(source, small_hybrid(), true);
  lincat::io::export_model(source.path(), lincat::io::ExportFormat::Peft, exported.path());
  auto config = lincat::io::read_json_file(exported.file("adapter_config.json"));
  config["use_rslora"] = true;
  lincat::io::write_json_file(exported.file("adapter_config.json"), config);
  const std::string message =
      user_error_message([&] { lincat::io::import_peft(*lincat::load_model(kLlama), exported.path()); });
  EXPECT_TRUE(contains(message, "adapter_config.json: field 'use_rslora'"));
}

TEST(ExportPeft, ImportNamesMissingTensor) {
  TempDir source, exported;
  write_converted(source, small_hybrid(), true);
  lincat::io::export_model(source.path(), lincat::io::ExportFormat::Peft, exported.path());
  auto adapters = lincat::io::load_safetensors(exported.file("adapter_model.safetensors"));
  adapters.erase(adapters.begin());
  lincat::io::save_safetensors(exported.file("adapter_model.safetensors"), adapters);
  const std::string message =
      user_error_message([&] { lincat::io::import_peft(*lincat::load_model(kLlama), exported.path()); });
  EXPECT_TRUE(contains(message, "missing tensors"));
  EXPECT_TRUE(contains(message, "base_model.model.model.layers."));
}

TEST(ExportLolcats, WritesLolcatsNamesShapesAndSettings) {
  TempDir source, out;
  write_converted(source, small_hybrid(), true);
  lincat::io::export_model(source.path(), lincat::io::ExportFormat::Lolcats, out.path());
  const auto tensors = lincat::io::load_safetensors_map(out.file("lolcats.safetensors"));
  const auto stored = tensors_of(source.path());
  const at::Tensor fq = tensors.at("model.layers.1.self_attn.feature_map_q.mlp.layer");
  EXPECT_EQ(fq.sizes().vec(), (std::vector<int64_t>{4, 16, 8}));  // [heads, head_dim, feature_dim]
  EXPECT_TRUE(torch::equal(fq, stored.at("model.layers.1.self_attn.feature_map_q.weight")));
  const at::Tensor factors = tensors.at("model.layers.0.self_attn.window_factors");
  EXPECT_EQ(factors.sizes().vec(), (std::vector<int64_t>{1, 4, 1, 1}));
  // The logit before the sigmoid: LoLCATs' sigmoid(window_factors) is lincat's gamma.
  EXPECT_TRUE(torch::equal(factors.flatten(), stored.at("model.layers.0.self_attn.mixing_logit")));
  EXPECT_TRUE(tensors.count("base_model.model.model.layers.0.mlp.down_proj.lora_B.weight"));
  EXPECT_EQ(tensors.size(), 2u * 3u + 2u * 3u * 2u);

  const std::string yaml = lincat::read_whole_file(out.file("lolcats.yaml"));
  for (const char* line : {"attention_type: lolcats_llama_window_sw", "window_size: 8", "feature_map: softmax_dim",
                           "learned_kernel: untied_head_einsum", "feature_dim: 8", "tie_qk_kernels: false",
                           "affine_attention_factors: false", "lora_alpha: 12", "r: 4"}) {
    EXPECT_TRUE(contains(yaml, line));
  }
}

TEST(ExportLolcats, RoundTripIsBitForBit) {
  TempDir source, exported, imported;
  write_converted(source, small_hybrid(), true);
  lincat::io::export_model(source.path(), lincat::io::ExportFormat::Lolcats, exported.path());
  const auto rebuilt =
      lincat::io::import_lolcats(*lincat::load_model(kLlama), exported.file("lolcats.safetensors"));
  lincat::save_model(*rebuilt, imported.path());
  expect_identical_tensors(source.path(), imported.path());
  EXPECT_TRUE(torch::equal(logits(source.path()), logits(imported.path())));
}

TEST(ExportLolcats, RoundTripWithoutAdapters) {
  TempDir source, exported, imported;
  write_converted(source, small_hybrid(), false);
  lincat::io::export_model(source.path(), lincat::io::ExportFormat::Lolcats, exported.path());
  lincat::save_model(*lincat::io::import_lolcats(*lincat::load_model(kLlama), exported.file("lolcats.safetensors")),
                     imported.path());
  expect_identical_tensors(source.path(), imported.path());
}

TEST(ExportLolcats, RefusesWhatLolcatsLacksWithTheReason) {
  struct Case {
    std::function<void(lincat::attention::HybridConfig&)> change;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {[](auto& h) { h.layout = lincat::attention::Layout::Terraced; }, "terraced layout"},
      {[](auto& h) { h.sinks = 2; }, "sinks (2)"},
      {[](auto& h) { h.feature_map = lincat::attention::FeatureMapKind::T2R; }, "t2r feature map"},
      {[](auto& h) { h.feature_map = lincat::attention::FeatureMapKind::HedgehogExp; }, "hedgehog_exp feature map"},
  };
  for (const Case& c : cases) {
    TempDir source, out;
    lincat::attention::HybridConfig hybrid = small_hybrid();
    c.change(hybrid);
    write_converted(source, hybrid, false);
    const std::string message = user_error_message(
        [&] { lincat::io::export_model(source.path(), lincat::io::ExportFormat::Lolcats, out.path()); });
    EXPECT_TRUE(contains(message, "LoLCATs has no equivalent of"));
    EXPECT_TRUE(contains(message, c.reason));
    EXPECT_FALSE(fs::exists(out.file("lolcats.safetensors")));
  }
}

TEST(ExportLolcats, ImportRefusesAffineFactors) {
  TempDir source, exported;
  write_converted(source, small_hybrid(), false);
  lincat::io::export_model(source.path(), lincat::io::ExportFormat::Lolcats, exported.path());
  std::string yaml = lincat::read_whole_file(exported.file("lolcats.yaml"));
  yaml.replace(yaml.find("affine_attention_factors: false"), 31, "affine_attention_factors: true");
  lincat::write_file_atomically(exported.file("lolcats.yaml"), yaml);
  const std::string message = user_error_message(
      [&] { lincat::io::import_lolcats(*lincat::load_model(kLlama), exported.file("lolcats.safetensors")); });
  EXPECT_TRUE(contains(message, "lolcats.yaml: attention.affine_attention_factors must be false"));
}

TEST(ExportMerged, EqualsLincatMerge) {
  TempDir source, exported, merged;
  write_converted(source, small_hybrid(), true);
  lincat::io::export_model(source.path(), lincat::io::ExportFormat::Merged, exported.path());
  lincat::Model model = *lincat::load_model(source.path());
  lincat::train::merge_lora(model);
  lincat::save_model(model, merged.path());
  expect_identical_tensors(exported.path(), merged.path());
  EXPECT_FALSE(lincat::io::load_model_config(fs::path(exported.path()) / "config.json").lora.has_value());
  EXPECT_TRUE(torch::equal(logits(exported.path()), logits(merged.path())));
}

TEST(ExportMerged, KeepsTheSourceDtype) {
  TempDir float32, source, exported;
  write_converted(float32, small_hybrid(), true);
  lincat::LoadOptions bfloat16;
  bfloat16.dtype = at::kBFloat16;
  lincat::Model model = *lincat::load_model(float32.path(), bfloat16);
  model.stored_dtype = at::kBFloat16;  // as if read from a bfloat16 checkpoint: save_model writes it back so
  lincat::save_model(model, source.path());
  lincat::io::export_model(source.path(), lincat::io::ExportFormat::Merged, exported.path());
  for (const auto& [name, tensor] : tensors_of(exported.path())) EXPECT_EQ(tensor.scalar_type(), at::kBFloat16) << name;
  EXPECT_EQ(lincat::io::read_json_file(fs::path(exported.path()) / "config.json").at("torch_dtype"), "bfloat16");
}

TEST(ExportFormats, RefuseUnconvertedModel) {
  TempDir out;
  for (auto format : {lincat::io::ExportFormat::Peft, lincat::io::ExportFormat::Lolcats, lincat::io::ExportFormat::Merged}) {
    const std::string message = user_error_message([&] { lincat::io::export_model(kLlama, format, out.path()); });
    EXPECT_TRUE(contains(message, "not a converted model"));
  }
}

TEST(ExportFormats, ConfigRefusesNewerFormatVersion) {
  auto config = lincat::io::read_json_file(fs::path(kLlama) / "config.json");
  config["lincat"] = {{"format_version", lincat::io::kLincatFormatVersion + 1}, {"attention", "hybrid"}};
  const std::string message = user_error_message([&] { lincat::io::parse_model_config(config, "config.json"); });
  EXPECT_TRUE(contains(message, "config.json: lincat: field 'format_version'"));
  EXPECT_TRUE(contains(message, "newer than this lincat reads"));
}

TEST(ExportCli, ExportAndImportThroughTheProgram) {
  TempDir source, exported, imported;
  write_converted(source, small_hybrid(), true);
  const auto exported_run = lincat::test::run_lincat("export " + source.path() + " --format peft --out " + exported.path());
  ASSERT_EQ(exported_run.exit_code, 0) << exported_run.err;
  EXPECT_TRUE(contains(exported_run.out, "adapter_model.safetensors"));
  const auto imported_run = lincat::test::run_lincat("convert-init " + kLlama + " --from-peft " + exported.path() +
                                                     " --out " + imported.path());
  ASSERT_EQ(imported_run.exit_code, 0) << imported_run.err;
  expect_identical_tensors(source.path(), imported.path());

  const auto bad_format = lincat::test::run_lincat("export " + source.path() + " --format onnx --out " + exported.path());
  EXPECT_EQ(bad_format.exit_code, 2);
  EXPECT_TRUE(contains(bad_format.err, "error: --format 'onnx': expected peft, lolcats or merged"));
  const auto both = lincat::test::run_lincat("convert-init " + kLlama + " --from-peft " + exported.path() +
                                             " --window 4 --out " + imported.path());
  EXPECT_EQ(both.exit_code, 2);
}

}  // namespace
