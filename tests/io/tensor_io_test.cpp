// The libtorch bridge: zero-copy reads of the fixtures, bit-exact round trips for every dtype,
// alignment, dtype refusal, and the NaN/Inf policy.
#include "lincat/io/tensor_io.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>

#include "support/safetensors_bytes.h"
#include "support/temp_dir.h"
#include "support/user_error.h"
#include "test_paths.h"

namespace lincat::io {
namespace {

using test::contains;
using test::user_error_message;

const std::string kLlamaDir = std::string(LINCAT_TEST_DATA) + "/hf-reference/llama-gqa";

bool same_bytes(const at::Tensor& a, const at::Tensor& b) {
  if (a.scalar_type() != b.scalar_type() || a.sizes() != b.sizes()) return false;
  if (a.numel() == 0) return true;  // memcmp must not see the null data pointer of an empty tensor
  const at::Tensor ca = a.contiguous(), cb = b.contiguous();
  return std::memcmp(ca.data_ptr(), cb.data_ptr(), ca.numel() * ca.element_size()) == 0;
}

TEST(TensorIo, LoadsFixtureExpectedOutputs) {
  const auto tensors = load_safetensors_map(kLlamaDir + "/expected.safetensors");
  ASSERT_EQ(tensors.size(), 3u);
  EXPECT_EQ(tensors.at("logits_0").scalar_type(), at::kFloat);
  EXPECT_EQ(tensors.at("logits_0").sizes(), (at::IntArrayRef{37, 512}));
  EXPECT_EQ(tensors.at("logits_1").sizes(), (at::IntArrayRef{48, 512}));
  const at::Tensor greedy = tensors.at("greedy_0");  // [8] token ids
  EXPECT_EQ(greedy.scalar_type(), at::kLong);
  EXPECT_EQ(greedy.sizes(), (at::IntArrayRef{8}));
  EXPECT_TRUE(((greedy >= 0) & (greedy < 512)).all().item<bool>());
  EXPECT_TRUE(torch::isfinite(tensors.at("logits_1")).all().item<bool>());
}

TEST(TensorIo, LoadsFixtureModelInFileOrder) {
  const auto tensors = load_safetensors(kLlamaDir + "/model.safetensors");
  ASSERT_EQ(tensors.size(), 21u);
  const auto file = SafetensorsFile::open(kLlamaDir + "/model.safetensors");
  for (std::size_t i = 0; i < tensors.size(); ++i) EXPECT_EQ(tensors[i].first, file->tensors()[i].name);
}

TEST(TensorIo, Bf16FixtureIsTheF32WeightsRounded) {
  // The BF16 copy was made by round-to-nearest-even, which is also what torch's cast does; a
  // loader that misread BF16 (say, as F16) would not match.
  const auto f32 = load_safetensors_map(kLlamaDir + "/model.safetensors");
  const auto bf16 = load_safetensors_map(kLlamaDir + "/model-bf16.safetensors");
  ASSERT_EQ(f32.size(), bf16.size());
  for (const auto& [name, weight] : f32) {
    const at::Tensor rounded = bf16.at(name);
    EXPECT_EQ(rounded.scalar_type(), at::kBFloat16) << name;
    EXPECT_TRUE(same_bytes(rounded, weight.to(at::kBFloat16))) << name;
  }
}

TEST(TensorIo, RoundTripEveryDtypeBitExact) {
  test::TempDir dir;
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const at::Tensor special = torch::tensor({nan, -inf, inf, -0.0f, 1e-40f, 65504.0f});  // [6]
  const std::vector<std::pair<std::string, at::Tensor>> tensors = {
      {"f32", torch::randn({3, 5})},
      {"f32.transposed", torch::randn({4, 6}).t()},  // not contiguous: written as its values
      {"f32.special", special},
      {"f16", torch::randn({7}).to(at::kHalf)},
      {"f16.special", special.to(at::kHalf)},
      {"bf16", torch::randn({2, 3, 4}).to(at::kBFloat16)},
      {"bf16.special", special.to(at::kBFloat16)},
      {"i64", torch::tensor({int64_t{0}, int64_t{-1}, std::numeric_limits<int64_t>::max(),
                             std::numeric_limits<int64_t>::min()})},
      {"i64.scalar", torch::tensor(int64_t{42})},
      {"f32.empty", torch::empty({0, 3})},
  };
  const std::string path = dir.file("all.safetensors");
  save_safetensors(path, tensors, {{"format", "pt"}});

  const auto loaded = load_safetensors(path);
  ASSERT_EQ(loaded.size(), tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    EXPECT_EQ(loaded[i].first, tensors[i].first);  // written in order, read in file order
    EXPECT_TRUE(same_bytes(loaded[i].second, tensors[i].second)) << tensors[i].first;
  }
}

TEST(TensorIo, ViewsShareTheMappingAndKeepItAlive) {
  test::TempDir dir;
  const std::string path = dir.file("w.safetensors");
  const at::Tensor original = torch::arange(12, at::kFloat).reshape({3, 4});  // [3, 4]
  save_safetensors(path, {{"w", original}});
  const std::string bytes_on_disk = test::read_bytes(path);

  auto file = SafetensorsFile::open(path);
  at::Tensor view = tensor_from_file(file, file->tensors().front());
  EXPECT_EQ(view.data_ptr(), static_cast<void*>(file->data(file->tensors().front())));  // no copy
  file.reset();  // the view alone now keeps the mapping
  EXPECT_TRUE(torch::equal(view, original));

  view.mul_(2);  // copy-on-write: the file is untouched
  EXPECT_TRUE(torch::equal(view, original * 2));
  EXPECT_EQ(test::read_bytes(path), bytes_on_disk);
}

TEST(TensorIo, MisalignedDataIsCopied) {
  test::TempDir dir;
  // Header length 8k + 3: the data section starts 3 bytes past an 8-byte boundary.
  const float values[2] = {1.5f, -2.25f};
  const std::string data(reinterpret_cast<const char*>(values), sizeof values);
  std::string header = "{" + test::tensor_entry("w", "F32", {2}, 0, 8) + "}";
  header.append((8 - header.size() % 8) % 8 + 3, ' ');
  const std::string bytes = test::safetensors_bytes(header, data, /*pad_to_8=*/false);
  const std::string path = dir.file("odd.safetensors");
  test::write_bytes(path, bytes);

  auto file = SafetensorsFile::open(path);
  ASSERT_NE(reinterpret_cast<std::uintptr_t>(file->data(file->tensors().front())) % 4, 0u);
  const at::Tensor w = tensor_from_file(file, file->tensors().front());
  EXPECT_NE(w.data_ptr(), static_cast<void*>(file->data(file->tensors().front())));
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(w.data_ptr()) % 4, 0u);
  EXPECT_TRUE(torch::equal(w, torch::tensor({1.5f, -2.25f})));
}

TEST(TensorIo, SaveRefusesUnsupportedDtype) {
  test::TempDir dir;
  const std::string path = dir.file("int32.safetensors");
  const std::string message = user_error_message(
      [&] { save_safetensors(path, {{"ok", torch::zeros({2})}, {"counts", torch::zeros({2}, at::kInt)}}); });
  EXPECT_TRUE(contains(message, path + ": tensor 'counts' has dtype Int; lincat writes float32, float16, bfloat16, int64"));
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(TensorIo, CheckFiniteCountsNanAndInf) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const at::Tensor weight = torch::tensor({{1.0f, nan, 2.0f}, {-inf, nan, inf}});  // [2, 3]
  for (at::ScalarType type : {at::kFloat, at::kHalf, at::kBFloat16}) {
    const std::string message =
        user_error_message([&] { check_finite("model.safetensors", "model.norm.weight", weight.to(type)); });
    EXPECT_TRUE(contains(message, "model.safetensors: tensor 'model.norm.weight' has 2 NaN and 2 Inf values out of 6 "
                                  "(first at flat index 1); lincat refuses non-finite weights"))
        << c10::toString(type);
  }
}

TEST(TensorIo, CheckFiniteAcceptsFiniteAndIntegerTensors) {
  EXPECT_NO_THROW(check_finite("f", "w", torch::randn({4, 4})));
  EXPECT_NO_THROW(check_finite("f", "empty", torch::empty({0})));
  EXPECT_NO_THROW(check_finite("f", "ids", torch::tensor({int64_t{1}, int64_t{2}})));
  EXPECT_NO_THROW(check_finite("f", "big", torch::full({3}, 65504.0f).to(at::kHalf)));
}

}  // namespace
}  // namespace lincat::io
