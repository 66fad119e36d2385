#include "lincat/io/tokenizer.h"

#include <gtest/gtest.h>

#include "support/user_error.h"
#include "test_paths.h"

namespace {

const std::string kTokenizer = LINCAT_TEST_DATA "/tokenizer/tiny.model";

TEST(Tokenizer, EncodesAndDecodesRoundTrip) {
  const auto tokenizer = lincat::io::Tokenizer::load(kTokenizer);
  EXPECT_EQ(tokenizer->vocab_size(), 300);
  EXPECT_EQ(tokenizer->bos_id(), 1);
  EXPECT_EQ(tokenizer->eos_id(), 2);
  // Ids from `spm_encode --model=tiny.model --output_format=id` (SentencePiece's own tool).
  const std::vector<int64_t> ids = tokenizer->encode("This is free software.");
  EXPECT_EQ(ids, (std::vector<int64_t>{175, 24, 85, 28, 212, 140, 220, 244}));
  EXPECT_EQ(tokenizer->decode(ids), "This is free software.");
}

TEST(Tokenizer, RefusesIdsOutsideTheVocabulary) {
  const auto tokenizer = lincat::io::Tokenizer::load(kTokenizer);
  EXPECT_TRUE(lincat::test::contains(lincat::test::user_error_message([&] { tokenizer->decode({5, 300}); }),
                                     "token id 300 is outside the vocabulary"));
}

TEST(Tokenizer, NamesAMissingOrInvalidFile) {
  EXPECT_TRUE(lincat::test::contains(
      lincat::test::user_error_message([] { lincat::io::Tokenizer::load("/nonexistent/tokenizer.model"); }),
      "/nonexistent/tokenizer.model"));
  // A JSON file is read as tokenizer.json: config.json has no "model".
  EXPECT_TRUE(lincat::test::contains(
      lincat::test::user_error_message([] { lincat::io::Tokenizer::load(LINCAT_TEST_DATA "/hf-reference/llama-gqa/config.json"); }),
      "config.json: model: missing"));
  EXPECT_TRUE(lincat::test::contains(
      lincat::test::user_error_message([] { lincat::io::Tokenizer::load(LINCAT_TEST_DATA "/hf-reference/README.md"); }),
      "not a valid SentencePiece model"));
}

// Fuzz finding (tokenizer_fuzz): SentencePiece throws a C++ exception on this model, which used to
// escape the module's C interface and abort the process.
TEST(Tokenizer, RefusesAModelOnWhichSentencePieceThrows) {
  const std::string path = LINCAT_TEST_DATA "/tokenizer/empty-piece.model";
  const std::string message = lincat::test::user_error_message([&] { lincat::io::Tokenizer::load(path); });
  EXPECT_TRUE(lincat::test::contains(message, path + ": not a valid SentencePiece model"));
  EXPECT_TRUE(lincat::test::contains(message, "zero-length key"));
}

}  // namespace
