#include "lincat/util/memory.h"

#include <gtest/gtest.h>

#include <limits>

namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

TEST(Memory, SaturatingArithmeticNeverWraps) {
  EXPECT_EQ(lincat::saturating_product({3, 5, 7}), 105u);
  EXPECT_EQ(lincat::saturating_product({uint64_t{1} << 40, uint64_t{1} << 40}), kMax);  // 2^80
  EXPECT_EQ(lincat::saturating_product({uint64_t{1} << 40, uint64_t{1} << 40, 0}), 0u);
  EXPECT_EQ(lincat::saturating_sum({1, 2}), 3u);
  EXPECT_EQ(lincat::saturating_sum({kMax - 1, 2}), kMax);
}

TEST(Memory, GibTextNamesSaturatedSizes) {
  EXPECT_EQ(lincat::gib_text(uint64_t{3} << 29), "1.5 GiB");
  EXPECT_EQ(lincat::gib_text(kMax), "more than 17179869183 GiB");
}

TEST(Memory, ReadsThisMachinesMemory) {
  const uint64_t physical = lincat::physical_memory_bytes();
  EXPECT_GT(physical, uint64_t{64} << 20);
  EXPECT_LT(physical, kMax);
  EXPECT_GT(lincat::available_memory_bytes(), 0u);
  EXPECT_LE(lincat::available_memory_bytes(), physical);
}

}  // namespace
