// Training data: the three formats, prompt masking, packing, the held-out split, errors with
// file and line, and the token cache.
#include <gtest/gtest.h>

#include "lincat/train/data.h"
#include "lincat/train/token_cache.h"
#include "support/safetensors_bytes.h"
#include "support/temp_dir.h"
#include "support/tiny_teacher.h"
#include "support/user_error.h"
#include "test_paths.h"

namespace lincat::train {
namespace {

using test::contains;
using test::user_error_message;

// One token per character: lets the tests count tokens exactly.
std::vector<int64_t> characters(const std::string& text) {
  std::vector<int64_t> ids;
  for (unsigned char c : text) ids.push_back(c % 100 + 3);
  return ids;
}

TEST(TrainData, ReadsTextJsonlAndAlpaca) {
  test::TempDir dir;
  test::write_bytes(dir.file("a.txt"), "plain words");
  test::write_bytes(dir.file("b.jsonl"), "{\"text\": \"one\"}\n\n{\"text\": \"two\"}\n");
  test::write_bytes(dir.file("c.jsonl"), "{\"instruction\": \"Add\", \"input\": \"1 2\", \"output\": \"3\"}\n");
  test::write_bytes(dir.file("d.json"), "[{\"instruction\": \"Say hi\", \"output\": \"hi\"}]");
  EXPECT_EQ(read_examples(dir.file("a.txt"), "auto").at(0).text, "plain words");
  const auto jsonl = read_examples(dir.file("b.jsonl"), "auto");
  ASSERT_EQ(jsonl.size(), 2u);
  EXPECT_EQ(jsonl[1].text, "two");
  const auto alpaca = read_examples(dir.file("c.jsonl"), "auto").at(0);
  EXPECT_EQ(alpaca.prompt, alpaca_prompt("Add", "1 2"));
  EXPECT_TRUE(contains(alpaca.prompt, "### Input:\n1 2"));
  EXPECT_EQ(alpaca.text, "3");
  const auto array = read_examples(dir.file("d.json"), "auto").at(0);
  EXPECT_FALSE(contains(array.prompt, "### Input"));
  EXPECT_EQ(array.text, "hi");
}

TEST(TrainData, PromptTokensAreMaskedOutOfTheLoss) {
  const std::vector<Example> examples = {{"abc", "de"}, {"", "fgh"}};
  const TokenSequences packed = pack_examples(examples, characters, 1, 2, 4, "test");
  // [1 a b c] [d e 2 1] [f g h 2]
  ASSERT_EQ(packed.count(), 3);
  EXPECT_EQ(packed.ids[0][0].item<int64_t>(), 1);
  EXPECT_EQ(packed.loss_mask.sum().item<float>(), 2 + 1 + 3 + 1);
  EXPECT_EQ(packed.loss_mask[0].sum().item<float>(), 0);
  EXPECT_EQ(packed.loss_mask[1][3].item<float>(), 0);  // the next example's BOS
}

TEST(TrainData, HeldOutSplitTakesTheLastSequences) {
  const TokenSequences packed = pack_examples({{"", std::string(40, 'x')}}, characters, -1, -1, 4, "test");
  const DataSplit split = split_held_out(packed, 0.25);
  EXPECT_EQ(split.train.count(), 7);
  EXPECT_EQ(split.held_out.count(), 3);
  EXPECT_EQ(split_held_out(packed, 0.0).held_out.count(), 0);
}

TEST(TrainData, BadDataIsReportedWithFileAndLine) {
  test::TempDir dir;
  test::write_bytes(dir.file("empty.txt"), "\n  \n");
  EXPECT_TRUE(contains(user_error_message([&] { read_examples(dir.file("empty.txt"), "auto"); }), "empty.txt: empty"));
  test::write_bytes(dir.file("bad.jsonl"), "{\"text\": \"ok\"}\n{\"text\": oops}\n");
  EXPECT_TRUE(contains(user_error_message([&] { read_examples(dir.file("bad.jsonl"), "auto"); }), "bad.jsonl:2: invalid JSON"));
  test::write_bytes(dir.file("field.jsonl"), "{\"txt\": \"ok\"}\n");
  EXPECT_TRUE(contains(user_error_message([&] { read_examples(dir.file("field.jsonl"), "auto"); }), "field.jsonl:1: missing string field 'text'"));
  test::write_bytes(dir.file("alpaca.jsonl"), "{\"instruction\": \"x\"}\n");
  EXPECT_TRUE(contains(user_error_message([&] { read_examples(dir.file("alpaca.jsonl"), "alpaca"); }), "'output'"));
  EXPECT_TRUE(contains(user_error_message([&] { read_examples(dir.file("missing.txt"), "auto"); }), "missing.txt"));
  EXPECT_TRUE(contains(user_error_message([] { pack_examples({{"", "short"}}, characters, 1, 2, 64, "--data x.txt"); }),
                       "too few for one sequence of 64"));
}

// Found by fuzz/data_fuzz.cpp: a number beyond the range of a double made the JSON parser throw
// out_of_range, which escaped as an internal error instead of naming the file and line.
TEST(TrainData, NumberBeyondDoubleRangeIsInvalidJsonNamingFileAndLine) {
  test::TempDir dir;
  test::write_bytes(dir.file("big.jsonl"), "{\"text\": \"ok\"}\n{\"text\": \"a\", \"n\": 1e400}\n");
  EXPECT_TRUE(contains(user_error_message([&] { read_examples(dir.file("big.jsonl"), "auto"); }),
                       "big.jsonl:2: invalid JSON"));
  test::write_bytes(dir.file("big.json"), "[{\"instruction\": \"x\", \"output\": \"y\", \"n\": -1e400}]");
  EXPECT_TRUE(contains(user_error_message([&] { read_examples(dir.file("big.json"), "auto"); }),
                       "big.json: invalid JSON"));
}

// From review while writing fuzz/data_fuzz.cpp: a sequence length of 0 divided by zero.
TEST(TrainData, SequenceLengthBelowOneIsRefused) {
  EXPECT_TRUE(contains(user_error_message([] { pack_examples({{"", "text"}}, characters, 1, 2, 0, "--data x.txt"); }),
                       "--data x.txt: sequence length 0 (data.sequence_length) must be >= 1"));
}

TEST(TrainData, SecondTokenisationComesFromTheCache) {
  test::TempDir dir;
  test::write_bytes(dir.file("t.txt"), test::tiny_text(400));
  const std::string tokenizer = LINCAT_TEST_DATA "/tokenizer/tiny.model";
  const TokenisedData first = tokenise_with_cache({dir.file("t.txt")}, "auto", tokenizer, 32, dir.file("cache"));
  const TokenisedData second = tokenise_with_cache({dir.file("t.txt")}, "auto", tokenizer, 32, dir.file("cache"));
  EXPECT_FALSE(first.from_cache);
  EXPECT_TRUE(second.from_cache);
  EXPECT_TRUE(at::equal(first.sequences.ids, second.sequences.ids));
  const TokenisedData other_length = tokenise_with_cache({dir.file("t.txt")}, "auto", tokenizer, 16, dir.file("cache"));
  EXPECT_FALSE(other_length.from_cache);
  test::write_bytes(dir.file("t.txt"), test::tiny_text(400, 99));
  EXPECT_FALSE(tokenise_with_cache({dir.file("t.txt")}, "auto", tokenizer, 32, dir.file("cache")).from_cache);
}

}  // namespace
}  // namespace lincat::train
