// Pre-tokenised training data: JSONL records with input_ids (and labels, -100 = not a target)
// are packed as they are, without BOS/EOS and without a tokenizer; bad records name file and line.
#include <gtest/gtest.h>

#include "lincat/train/examples.h"
#include "support/safetensors_bytes.h"
#include "support/temp_dir.h"
#include "support/user_error.h"

namespace lincat::train {
namespace {

using test::contains;
using test::user_error_message;

std::vector<int64_t> no_text(const std::string&) {
  ADD_FAILURE() << "pre-tokenised records must not be encoded";
  return {};
}

TEST(PretokenisedData, IdsAndLabelsArePackedAsGiven) {
  test::TempDir dir;
  test::write_bytes(dir.file("ids.jsonl"),
                    "{\"input_ids\": [5, 6, 7], \"labels\": [-100, 6, 7]}\n{\"input_ids\": [8, 9, 10]}\n");
  const std::vector<Example> examples = read_examples(dir.file("ids.jsonl"), "auto");
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].ids, (std::vector<int64_t>{5, 6, 7}));
  EXPECT_EQ(examples[0].targets, (std::vector<bool>{false, true, true}));
  EXPECT_EQ(examples[1].targets, (std::vector<bool>{true, true, true}));
  // bos/eos are not added around pre-tokenised records.
  const PackedTokens packed = pack_tokens(examples, no_text, 1, 2, 3, "test");
  EXPECT_EQ(packed.count, 2);
  EXPECT_EQ(packed.ids, (std::vector<int64_t>{5, 6, 7, 8, 9, 10}));
  EXPECT_EQ(packed.loss_mask, (std::vector<float>{0, 1, 1, 1, 1, 1}));
}

TEST(PretokenisedData, BadRecordsNameFileAndLine) {
  test::TempDir dir;
  const auto error_for = [&](const std::string& record) {
    test::write_bytes(dir.file("bad.jsonl"), "{\"input_ids\": [1]}\n" + record + "\n");
    return user_error_message([&] { read_examples(dir.file("bad.jsonl"), "auto"); });
  };
  EXPECT_TRUE(contains(error_for("{\"input_ids\": []}"), "bad.jsonl:2: input_ids must be a non-empty list"));
  EXPECT_TRUE(contains(error_for("{\"input_ids\": [1, -3]}"), "bad.jsonl:2: input_ids[1] must be a non-negative integer"));
  EXPECT_TRUE(contains(error_for("{\"input_ids\": [1, \"a\"]}"), "input_ids[1] must be a non-negative integer"));
  EXPECT_TRUE(contains(error_for("{\"input_ids\": [1, 2], \"labels\": [1]}"), "labels must be a list as long as input_ids (2)"));
  EXPECT_TRUE(contains(error_for("{\"input_ids\": [1, 2], \"labels\": [1, 5]}"),
                       "labels[1] must be -100 or equal input_ids[1], found 5"));
}

}  // namespace
}  // namespace lincat::train
