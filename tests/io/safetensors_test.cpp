// The safetensors parser and writer, without libtorch: fixtures, round trips, and one test per
// kind of malformed file (each built byte by byte in a temp dir).
#include "lincat/io/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "lincat/util/error.h"
#include "support/safetensors_bytes.h"
#include "support/temp_dir.h"
#include "support/user_error.h"
#include "test_paths.h"

namespace lincat::io {
namespace {

using test::contains;
using test::safetensors_bytes;
using test::tensor_entry;
using test::user_error_message;

const std::string kLlamaDir = std::string(LINCAT_TEST_DATA) + "/hf-reference/llama-gqa";

// Writes `bytes` to "<dir>/<name>" and returns the UserError message of opening it.
std::string open_error(const test::TempDir& dir, const std::string& name, const std::string& bytes) {
  const std::string path = dir.file(name);
  test::write_bytes(path, bytes);
  return user_error_message([&] { SafetensorsFile::open(path); });
}

TEST(SafetensorsRead, FixtureExpectedOutputs) {
  auto file = SafetensorsFile::open(kLlamaDir + "/expected.safetensors");
  ASSERT_EQ(file->tensors().size(), 3u);
  const TensorInfo* logits_0 = file->find("logits_0");
  const TensorInfo* logits_1 = file->find("logits_1");
  const TensorInfo* greedy_0 = file->find("greedy_0");
  ASSERT_TRUE(logits_0 && logits_1 && greedy_0);
  EXPECT_EQ(logits_0->dtype, DType::F32);
  EXPECT_EQ(logits_0->shape, (std::vector<int64_t>{37, 512}));
  EXPECT_EQ(logits_1->dtype, DType::F32);
  EXPECT_EQ(logits_1->shape, (std::vector<int64_t>{48, 512}));
  EXPECT_EQ(greedy_0->dtype, DType::I64);
  EXPECT_EQ(greedy_0->shape, (std::vector<int64_t>{8}));
  EXPECT_EQ(file->metadata().at("format"), "pt");
  EXPECT_EQ(file->find("absent"), nullptr);
}

TEST(SafetensorsRead, FixtureModelHas21F32Tensors) {
  auto file = SafetensorsFile::open(kLlamaDir + "/model.safetensors");
  ASSERT_EQ(file->tensors().size(), 21u);
  for (const TensorInfo& info : file->tensors()) EXPECT_EQ(info.dtype, DType::F32) << info.name;
  ASSERT_NE(file->find("lm_head.weight"), nullptr);
  EXPECT_EQ(file->find("lm_head.weight")->shape, (std::vector<int64_t>{512, 64}));
  EXPECT_EQ(file->find("model.layers.1.self_attn.k_proj.weight")->shape, (std::vector<int64_t>{32, 64}));
  // tensors() is in data-offset order.
  for (std::size_t i = 1; i < file->tensors().size(); ++i) {
    EXPECT_LE(file->tensors()[i - 1].end, file->tensors()[i].begin);
  }
}

TEST(SafetensorsRead, FixtureBf16ModelIsBf16) {
  auto file = SafetensorsFile::open(kLlamaDir + "/model-bf16.safetensors");
  ASSERT_EQ(file->tensors().size(), 21u);
  for (const TensorInfo& info : file->tensors()) EXPECT_EQ(info.dtype, DType::BF16) << info.name;
}

TEST(SafetensorsWrite, RoundTripEveryDtypeBitExact) {
  test::TempDir dir;
  const std::string path = dir.file("all.safetensors");
  const std::string f32 = test::counting_bytes(4 * 6), f16 = test::counting_bytes(2 * 5),
                    bf16 = test::counting_bytes(2 * 3), i64 = test::counting_bytes(8 * 4);
  const std::vector<TensorBytes> tensors = {
      {"f32", DType::F32, {2, 3}, f32.data(), f32.size()},
      {"f16", DType::F16, {5}, f16.data(), f16.size()},
      {"bf16", DType::BF16, {3, 1}, bf16.data(), bf16.size()},
      {"i64", DType::I64, {4}, i64.data(), i64.size()},
      {"empty", DType::F32, {0, 7}, nullptr, 0},
      {"scalar", DType::I64, {}, i64.data(), 8},
  };
  write_safetensors(path, tensors, {{"format", "pt"}, {"origin", "test"}});

  auto file = SafetensorsFile::open(path);
  ASSERT_EQ(file->tensors().size(), tensors.size());
  for (const TensorBytes& expected : tensors) {
    const TensorInfo* info = file->find(expected.name);
    ASSERT_NE(info, nullptr) << expected.name;
    EXPECT_EQ(info->dtype, expected.dtype) << expected.name;
    EXPECT_EQ(info->shape, expected.shape) << expected.name;
    ASSERT_EQ(info->end - info->begin, expected.nbytes) << expected.name;
    if (expected.nbytes) {
      EXPECT_EQ(std::memcmp(file->data(*info), expected.data, expected.nbytes), 0) << expected.name;
    }
  }
  EXPECT_EQ(file->find("scalar")->numel(), 1);
  EXPECT_EQ(file->find("empty")->numel(), 0);
  EXPECT_EQ(file->metadata(), (std::map<std::string, std::string>{{"format", "pt"}, {"origin", "test"}}));
}

TEST(SafetensorsWrite, HeaderPaddedWithSpacesToMultipleOf8) {
  test::TempDir dir;
  const std::string path = dir.file("one.safetensors");
  const std::string data = test::counting_bytes(4);
  write_safetensors(path, {{"x", DType::F32, {1}, data.data(), data.size()}});
  const std::string bytes = test::read_bytes(path);
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | static_cast<unsigned char>(bytes[i]);
  EXPECT_EQ(header_size % 8, 0u);
  EXPECT_EQ(bytes.size(), 8 + header_size + data.size());
  const std::string header = bytes.substr(8, header_size);
  EXPECT_EQ(header.find("__metadata__"), std::string::npos);  // none given, none written
  const std::size_t json_end = header.find_last_of('}');
  EXPECT_EQ(header.find_first_not_of(' ', json_end + 1), std::string::npos);
  EXPECT_EQ(bytes.substr(8 + header_size), data);
}

TEST(SafetensorsWrite, FailedWriteLeavesTargetAndNoTempFile) {
  test::TempDir dir;
  // The target is a directory, so the final rename fails after the temp file was written.
  const std::string target = dir.file("occupied");
  std::filesystem::create_directory(target);
  const std::string data = test::counting_bytes(8);
  const std::string message = user_error_message(
      [&] { write_safetensors(target, {{"x", DType::I64, {1}, data.data(), data.size()}}); });
  EXPECT_TRUE(contains(message, target));
  EXPECT_TRUE(std::filesystem::is_directory(target));
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().filename().string(), "occupied") << "left behind: " << entry.path();
  }
}

TEST(SafetensorsWrite, DuplicateTensorNameRefused) {
  test::TempDir dir;
  const std::string data = test::counting_bytes(4);
  const std::string path = dir.file("dup.safetensors");
  const std::string message = user_error_message([&] {
    write_safetensors(path, {{"w", DType::F32, {1}, data.data(), 4}, {"w", DType::F32, {1}, data.data(), 4}});
  });
  EXPECT_TRUE(contains(message, path + ": tensor 'w' is given twice"));
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(SafetensorsOpen, EmptyTensorsAccepted) {
  test::TempDir dir;
  // Empty tensors may sit anywhere, even at an offset inside another tensor: they own no bytes.
  const std::string path = dir.file("empty.safetensors");
  test::write_bytes(path, safetensors_bytes("{" + tensor_entry("a", "F32", {2}, 0, 8) + "," +
                                                tensor_entry("none", "F16", {0, 4}, 4, 4) + "}",
                                            test::counting_bytes(8)));
  auto file = SafetensorsFile::open(path);
  EXPECT_EQ(file->tensors().size(), 2u);
  EXPECT_EQ(file->find("none")->numel(), 0);
}

TEST(SafetensorsOpen, MissingFile) {
  test::TempDir dir;
  const std::string path = dir.file("nothing-here.safetensors");
  const std::string message = user_error_message([&] { SafetensorsFile::open(path); });
  EXPECT_TRUE(contains(message, path + ": cannot open (No such file or directory)"));
}

TEST(SafetensorsOpen, ZeroSizeFile) {
  test::TempDir dir;
  const std::string message = open_error(dir, "zero.safetensors", "");
  EXPECT_TRUE(contains(message, dir.file("zero.safetensors") + ": file is 0 bytes, too short"));
}

TEST(SafetensorsOpen, TruncatedDataSection) {
  test::TempDir dir;
  // A valid two-tensor file with the last 4 bytes of data cut off.
  const std::string header = "{" + tensor_entry("a", "F32", {2}, 0, 8) + "," + tensor_entry("b", "F32", {2}, 8, 16) + "}";
  const std::string message = open_error(dir, "cut.safetensors", safetensors_bytes(header, test::counting_bytes(12)));
  EXPECT_TRUE(contains(message, dir.file("cut.safetensors") + ": tensor 'b': data_offsets [8, 16] go beyond "
                                "the data section of 12 bytes (file truncated or offsets wrong)"));
}

TEST(SafetensorsOpen, HeaderLengthLargerThanFile) {
  test::TempDir dir;
  const std::string message = open_error(dir, "short.safetensors", test::u64_le(1000) + "{}");
  EXPECT_TRUE(contains(message, dir.file("short.safetensors") +
                                    ": header length 1000 is larger than the 2 bytes that follow it"));
}

TEST(SafetensorsOpen, AbsurdHeaderLengthRefusedBeforeAllocating) {
  test::TempDir dir;
  // A sparse file big enough to hold the claimed header, so only the size limit can refuse it.
  const uint64_t claimed = SafetensorsFile::kMaxHeaderBytes + 1;
  const std::string path = dir.file("huge-header.safetensors");
  test::write_bytes(path, test::u64_le(claimed) + "{}");
  std::filesystem::resize_file(path, 8 + claimed);
  std::string message = user_error_message([&] { SafetensorsFile::open(path); });
  EXPECT_TRUE(contains(message, path + ": header length 104857601 exceeds the limit of 104857600 bytes"));

  // The largest u64: no overflow in the bounds arithmetic, same refusal.
  message = open_error(dir, "max.safetensors", test::u64_le(UINT64_MAX) + "{}");
  EXPECT_TRUE(contains(message, "header length 18446744073709551615 exceeds the limit"));
}

TEST(SafetensorsOpen, HeaderNotJson) {
  test::TempDir dir;
  const std::string message = open_error(dir, "garbage.safetensors", safetensors_bytes("{\"a\": [1, 2", ""));
  EXPECT_TRUE(contains(message, dir.file("garbage.safetensors") + ": header is not valid JSON"));
}

TEST(SafetensorsOpen, HeaderNotAnObject) {
  test::TempDir dir;
  const std::string message = open_error(dir, "array.safetensors", safetensors_bytes("[1, 2, 3]", ""));
  EXPECT_TRUE(contains(message, dir.file("array.safetensors") + ": header is not a JSON object"));
}

TEST(SafetensorsOpen, OverlappingOffsets) {
  test::TempDir dir;
  const std::string header = "{" + tensor_entry("first", "F32", {4}, 0, 16) + "," +
                             tensor_entry("second", "F32", {4}, 12, 28) + "}";
  const std::string message = open_error(dir, "overlap.safetensors", safetensors_bytes(header, test::counting_bytes(28)));
  EXPECT_TRUE(contains(message, dir.file("overlap.safetensors") +
                                    ": tensor 'second': data_offsets [12, 28] overlap tensor 'first' at [0, 16]"));
}

TEST(SafetensorsOpen, OutOfRangeOffsets) {
  test::TempDir dir;
  // Offsets far past the 16-byte data section; the byte count itself is consistent with the shape.
  const std::string header = "{" + tensor_entry("far", "F32", {4}, 4096, 4112) + "}";
  const std::string message = open_error(dir, "far.safetensors", safetensors_bytes(header, test::counting_bytes(16)));
  EXPECT_TRUE(contains(message, dir.file("far.safetensors") +
                                    ": tensor 'far': data_offsets [4096, 4112] go beyond the data section of 16 bytes"));
}

TEST(SafetensorsOpen, OffsetsEndBeforeBegin) {
  test::TempDir dir;
  const std::string header = "{" + tensor_entry("backwards", "F32", {0}, 8, 4) + "}";
  const std::string message = open_error(dir, "backwards.safetensors", safetensors_bytes(header, test::counting_bytes(8)));
  EXPECT_TRUE(contains(message, dir.file("backwards.safetensors") +
                                    ": tensor 'backwards': data_offsets [8, 4] end before they begin"));
}

TEST(SafetensorsOpen, ShapeTimesDtypeSizeMismatch) {
  test::TempDir dir;
  const std::string header = "{" + tensor_entry("w", "BF16", {3, 4}, 0, 48) + "}";
  const std::string message = open_error(dir, "mismatch.safetensors", safetensors_bytes(header, test::counting_bytes(48)));
  EXPECT_TRUE(contains(message, dir.file("mismatch.safetensors") +
                                    ": tensor 'w': shape [3, 4] of BF16 needs 24 bytes but data_offsets span 48"));
}

TEST(SafetensorsOpen, ShapeProductOverflowRefused) {
  test::TempDir dir;
  const std::string header = "{" + tensor_entry("huge", "F32", {1ll << 40, 1ll << 30}, 0, 8) + "}";
  const std::string message = open_error(dir, "overflow.safetensors", safetensors_bytes(header, test::counting_bytes(8)));
  EXPECT_TRUE(contains(message, dir.file("overflow.safetensors") + ": tensor 'huge': shape [1099511627776, "
                                "1073741824] is too large (byte size overflows)"));
}

TEST(SafetensorsOpen, NegativeDimensionRefused) {
  test::TempDir dir;
  const std::string header = "{" + tensor_entry("neg", "F32", {-2, -2}, 0, 16) + "}";
  const std::string message = open_error(dir, "neg.safetensors", safetensors_bytes(header, test::counting_bytes(16)));
  EXPECT_TRUE(contains(message, dir.file("neg.safetensors") + ": tensor 'neg': shape has a negative dimension -2"));
}

TEST(SafetensorsOpen, EntryMissingFieldOrWrongType) {
  test::TempDir dir;
  std::string message = open_error(dir, "nodtype.safetensors",
                                   safetensors_bytes(R"({"w":{"shape":[1],"data_offsets":[0,4]}})", "abcd"));
  EXPECT_TRUE(contains(message, dir.file("nodtype.safetensors") + ": tensor 'w': header entry has no \"dtype\""));
  message = open_error(dir, "strshape.safetensors",
                       safetensors_bytes(R"({"w":{"dtype":"F32","shape":"1","data_offsets":[0,4]}})", "abcd"));
  EXPECT_TRUE(contains(message, dir.file("strshape.safetensors") + ": tensor 'w': \"shape\" is not an array"));
  message = open_error(dir, "floatoffset.safetensors",
                       safetensors_bytes(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4.0]}})", "abcd"));
  EXPECT_TRUE(contains(message, dir.file("floatoffset.safetensors") +
                                    ": tensor 'w': \"data_offsets\" entry 4.0 is not a non-negative integer"));
}

// Fuzz finding (safetensors_fuzz on a 30000-deep input): the message quoted the entry with
// json::dump, which recursed once per nesting level and overflowed the stack.
TEST(SafetensorsOpen, DeeplyNestedShapeEntryRefusedWithoutRecursing) {
  test::TempDir dir;
  const std::string nested = std::string(200000, '[') + std::string(200000, ']');
  const std::string header = R"({"w":{"dtype":"F32","shape":[)" + nested + R"(],"data_offsets":[0,4]}})";
  const std::string message = open_error(dir, "nested.safetensors", safetensors_bytes(header, "abcd"));
  EXPECT_TRUE(contains(message, dir.file("nested.safetensors") + ": tensor 'w': shape has a non-integer entry "
                                "an array of 1 item"));
}

TEST(SafetensorsOpen, RepeatedTensorNameRefused) {
  test::TempDir dir;
  const std::string header = "{" + tensor_entry("w", "F32", {1}, 0, 4) + "," + tensor_entry("w", "F32", {1}, 4, 8) + "}";
  const std::string message = open_error(dir, "twice.safetensors", safetensors_bytes(header, test::counting_bytes(8)));
  EXPECT_TRUE(contains(message, dir.file("twice.safetensors") + ": tensor 'w' appears twice in the header"));
}

TEST(SafetensorsOpen, MetadataMustMapStringsToStrings) {
  test::TempDir dir;
  const std::string message = open_error(dir, "meta.safetensors",
                                         safetensors_bytes(R"({"__metadata__":{"format":"pt","step":3}})", ""));
  EXPECT_TRUE(contains(message, dir.file("meta.safetensors") + ": \"__metadata__\" value of 'step' is not a string"));
}

TEST(SafetensorsOpen, UnsupportedDtypeU32) {
  test::TempDir dir;
  const std::string header = "{" + tensor_entry("ids", "U32", {2}, 0, 8) + "}";
  const std::string message = open_error(dir, "u32.safetensors", safetensors_bytes(header, test::counting_bytes(8)));
  EXPECT_TRUE(contains(message, dir.file("u32.safetensors") +
                                    ": tensor 'ids' has dtype U32; lincat reads F32, F16, BF16, I64"));
}

TEST(SafetensorsOpen, UnsupportedDtypeF8E4M3) {
  test::TempDir dir;
  const std::string header = "{" + tensor_entry("w8", "F8_E4M3", {8}, 0, 8) + "}";
  const std::string message = open_error(dir, "fp8.safetensors", safetensors_bytes(header, test::counting_bytes(8)));
  EXPECT_TRUE(contains(message, dir.file("fp8.safetensors") +
                                    ": tensor 'w8' has dtype F8_E4M3; lincat reads F32, F16, BF16, I64"));
}

TEST(SafetensorsOpen, UnknownDtypeNamed) {
  test::TempDir dir;
  const std::string header = "{" + tensor_entry("w", "F33", {1}, 0, 4) + "}";
  const std::string message = open_error(dir, "f33.safetensors", safetensors_bytes(header, test::counting_bytes(4)));
  EXPECT_TRUE(contains(message, dir.file("f33.safetensors") + ": tensor 'w' has unknown dtype 'F33'"));
}

}  // namespace
}  // namespace lincat::io
