// util/huge_pages.h: tensors placed in one mapping, each on its own 64-byte-aligned bytes, alive
// as long as any of them is; the loader puts a float32 model's weights there and leaves a 16-bit
// model in its mapped files.
#include "lincat/util/huge_pages.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "lincat/model/model.h"
#include "test_paths.h"

namespace {

uintptr_t address(const at::Tensor& t) { return reinterpret_cast<uintptr_t>(t.data_ptr()); }

TEST(HugePages, TensorsAreAlignedDisjointAndOutliveTheirSiblings) {
  std::vector<at::Tensor> tensors = lincat::util::empty_in_huge_pages(
      {{{3, 5}, at::kFloat}, {{7}, at::kDouble}, {{1000, 33}, at::kFloat}, {{2}, at::kBFloat16}});
  ASSERT_EQ(tensors.size(), 4u);
  EXPECT_EQ(tensors[0].sizes(), (std::vector<int64_t>{3, 5}));
  EXPECT_EQ(tensors[1].scalar_type(), at::kDouble);
  EXPECT_EQ(tensors[3].scalar_type(), at::kBFloat16);
  EXPECT_EQ(address(tensors[0]) % (2 << 20), 0u);  // the mapping starts on a huge page
  for (const at::Tensor& t : tensors) {
    EXPECT_TRUE(t.is_contiguous());
    EXPECT_EQ(address(t) % 64, 0u);
  }
  for (size_t i = 0; i < tensors.size(); ++i) tensors[i].fill_(static_cast<double>(i + 1));
  for (size_t i = 0; i < tensors.size(); ++i) {
    EXPECT_TRUE(at::all(tensors[i] == static_cast<double>(i + 1)).item<bool>()) << "tensor " << i << " was overwritten";
  }
  // The last one keeps the mapping alive.
  const at::Tensor kept = tensors[2];
  tensors.clear();
  kept.fill_(4.5);
  EXPECT_EQ(kept.sum().item<double>(), 4.5 * 33000);
  EXPECT_TRUE(lincat::util::empty_in_huge_pages({}).empty());
}

// Where the kernel hands out huge pages on request (transparent_hugepage "madvise" or "always",
// with direct compaction for madvised memory), touching 8 MiB of such tensors yields some.
TEST(HugePages, TheKernelGrantsThemWhereConfiguredTo) {
  const auto setting = [](const std::string& file) {
    std::ifstream in("/sys/kernel/mm/transparent_hugepage/" + file);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t open = text.find('['), close = text.find(']');
    return open == std::string::npos ? std::string() : text.substr(open + 1, close - open - 1);
  };
  const std::string enabled = setting("enabled"), defrag = setting("defrag");
  if ((enabled != "madvise" && enabled != "always") ||
      (defrag != "madvise" && defrag != "always" && defrag != "defer+madvise")) {
    GTEST_SKIP() << "transparent huge pages: enabled [" << enabled << "], defrag [" << defrag << "]";
  }
  const int64_t before = lincat::util::huge_page_bytes();
  at::Tensor block = lincat::util::empty_in_huge_pages({{{int64_t{2} << 20}, at::kFloat}}).front();
  block.fill_(1);
  EXPECT_GE(lincat::util::huge_page_bytes() - before, int64_t{2} << 20);
}

TEST(HugePages, TheLoaderPutsFloat32WeightsThereAndLeaves16BitOnesInPlace) {
  const std::string fixture = LINCAT_TEST_DATA "/hf-reference/llama-gqa";
  const auto float32 = lincat::load_model(fixture, {torch::kCPU, at::kFloat});
  EXPECT_EQ(address(float32->weights.embed_tokens) % (2 << 20), 0u);  // the first weight of the mapping
  EXPECT_EQ(address(float32->weights.layers[0].q_proj) % 64, 0u);
  // The bfloat16 checkpoint loaded as bfloat16: views of the mapped file, no copy.
  const auto bf16 = lincat::load_model(fixture, {torch::kCPU, at::kBFloat16, fixture + "/model-bf16.safetensors"});
  EXPECT_NE(address(bf16->weights.embed_tokens) % (2 << 20), 0u);
}

}  // namespace
