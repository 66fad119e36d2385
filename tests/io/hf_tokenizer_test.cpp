// tokenizer.json on a small hand-made byte-level BPE: the pipeline (pre-tokenizer, merges by rank,
// added tokens, template, decoder) gives the ids worked out by hand, both merge notations agree,
// and every kind of bad file or bad input is refused with the file and the field named.
// (The comparison with Hugging Face on the real Llama files is tests/tokenizer/reference_test.sh.)
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "lincat/io/hf/text.h"
#include "lincat/io/tokenizer.h"
#include "support/run_program.h"
#include "support/temp_dir.h"
#include "support/user_error.h"

namespace lincat::io {
namespace {

using nlohmann::json;
using test::contains;
using test::user_error_message;

// Bytes 0..255 as byte-level characters with id = byte, then hello's merges, "Ġw" and one special token.
json tiny_byte_level() {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[hf::byte_level_char(static_cast<unsigned char>(b))] = b;
  vocab["he"] = 256;
  vocab["ll"] = 257;
  vocab["hell"] = 258;
  vocab["hello"] = 259;
  vocab["Ġw"] = 260;
  return {
      {"version", "1.0"},
      {"added_tokens", {{{"id", 261}, {"content", "<|bos|>"}, {"special", true}, {"normalized", false}}}},
      {"normalizer", nullptr},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single", {{{"SpecialToken", {{"id", "<|bos|>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
        {"special_tokens", {{"<|bos|>", {{"id", "<|bos|>"}, {"ids", {261}}, {"tokens", {"<|bos|>"}}}}}}}},
      {"decoder", {{"type", "ByteLevel"}}},
      {"model",
       {{"type", "BPE"}, {"vocab", vocab}, {"merges", {"h e", "l l", "he ll", "hell o", "Ġ w"}}, {"byte_fallback", false}}}};
}

std::string write(const test::TempDir& dir, const std::string& text, const std::string& name = "tokenizer.json") {
  std::ofstream(dir.file(name), std::ios::binary) << text;
  return dir.file(name);
}

std::string load_error(const json& tokenizer) {
  test::TempDir dir;
  const std::string path = write(dir, tokenizer.dump());
  return user_error_message([&] { Tokenizer::load(path); });
}

TEST(HfTokenizer, EncodesByRankAndDecodesBack) {
  test::TempDir dir;
  const auto tokenizer = Tokenizer::load(write(dir, tiny_byte_level().dump()));
  EXPECT_EQ(tokenizer->vocab_size(), 262);
  // "hello" merges fully; " world" starts with the Ġw merge, the rest stays bytes.
  const std::vector<int64_t> ids = tokenizer->encode("hello world");
  EXPECT_EQ(ids, (std::vector<int64_t>{259, 260, 'o', 'r', 'l', 'd'}));
  EXPECT_EQ(tokenizer->encode_with_special("hello world").front(), 261);
  // Without tokenizer_config.json, BOS is the token the template puts first.
  EXPECT_EQ(tokenizer->bos_id(), 261);
  EXPECT_TRUE(tokenizer->adds_bos());
  EXPECT_EQ(tokenizer->decode(ids), "hello world");
  EXPECT_EQ(tokenizer->decode({261, 259}), "<|bos|>hello");
  EXPECT_EQ(tokenizer->decode({261, 259}, /*skip_special=*/true), "hello");
  // A special token written in the text is one id; the text around it is encoded on its own.
  EXPECT_EQ(tokenizer->encode("a<|bos|>b"), (std::vector<int64_t>{'a', 261, 'b'}));
  EXPECT_EQ(tokenizer->encode(""), std::vector<int64_t>{});
  // 4-byte characters go through the byte-level alphabet and back.
  const std::string emoji = "\xF0\x9F\x98\x80!";
  EXPECT_EQ(tokenizer->decode(tokenizer->encode(emoji)), emoji);
}

TEST(HfTokenizer, PairMergesEqualStringMerges) {
  json pairs = tiny_byte_level();
  pairs["model"]["merges"] = json::array();
  for (const auto& [a, b] : std::vector<std::pair<std::string, std::string>>{
           {"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {"Ġ", "w"}}) {
    pairs["model"]["merges"].push_back(json::array({a, b}));
  }
  test::TempDir a, b;
  const auto strings = Tokenizer::load(write(a, tiny_byte_level().dump()));
  const auto arrays = Tokenizer::load(write(b, pairs.dump()));
  for (const std::string text : {"hello world", "hellohello  wow", "shell well"}) {
    EXPECT_EQ(strings->encode(text), arrays->encode(text)) << text;
  }
}

TEST(HfTokenizer, ConfigGivesBosAndEos) {
  test::TempDir dir;
  write(dir, tiny_byte_level().dump());
  write(dir, json{{"bos_token", "<|bos|>"}, {"eos_token", {{"content", "hello"}}}}.dump(), "tokenizer_config.json");
  const auto tokenizer = Tokenizer::load(dir.path());
  EXPECT_EQ(tokenizer->bos_id(), 261);
  EXPECT_EQ(tokenizer->eos_id(), 259);
  EXPECT_TRUE(tokenizer->adds_bos());
  // The Llama tokenizer classes take add_bos_token / add_eos_token from the config.
  write(dir, json{{"bos_token", "<|bos|>"}, {"eos_token", "hello"}, {"tokenizer_class", "LlamaTokenizerFast"},
                  {"add_bos_token", false}, {"add_eos_token", true}}.dump(), "tokenizer_config.json");
  EXPECT_EQ(Tokenizer::load(dir.path())->encode_with_special("he"), (std::vector<int64_t>{256, 259}));
}

TEST(HfTokenizer, DirectoryPrefersTokenizerJson) {
  test::TempDir dir;
  write(dir, "not a sentencepiece model", "tokenizer.model");
  EXPECT_EQ(Tokenizer::find_in(dir.path()), dir.file("tokenizer.model"));
  write(dir, tiny_byte_level().dump());
  EXPECT_EQ(Tokenizer::find_in(dir.path()), dir.file("tokenizer.json"));
  EXPECT_EQ(Tokenizer::load(dir.path())->vocab_size(), 262);
  test::TempDir empty;
  EXPECT_TRUE(contains(user_error_message([&] { Tokenizer::load(empty.path()); }), "no tokenizer.json or tokenizer.model"));
}

TEST(HfTokenizer, RefusesBadFilesNamingTheField) {
  test::TempDir dir;
  const std::string not_json = write(dir, "{\"model\": {", "broken.json");
  EXPECT_TRUE(contains(user_error_message([&] { Tokenizer::load(not_json); }), "broken.json: invalid JSON"));

  json unigram = tiny_byte_level();
  unigram["model"]["type"] = "Unigram";
  EXPECT_TRUE(contains(load_error(unigram), "model.type: model 'Unigram' is not supported"));

  json lowercase = tiny_byte_level();
  lowercase["normalizer"] = {{"type", "Sequence"}, {"normalizers", {{{"type", "Lowercase"}}}}};
  EXPECT_TRUE(contains(load_error(lowercase), "normalizer.normalizers[0].type: normalizer 'Lowercase' is not supported"));

  json whitespace = tiny_byte_level();
  whitespace["pre_tokenizer"] = {{"type", "Whitespace"}};
  EXPECT_TRUE(contains(load_error(whitespace), "pre_tokenizer.type: pre-tokenizer 'Whitespace' is not supported"));

  json ctc = tiny_byte_level();
  ctc["decoder"] = {{"type", "CTC"}};
  EXPECT_TRUE(contains(load_error(ctc), "decoder.type: decoder 'CTC' is not supported"));

  json missing = tiny_byte_level();
  missing["model"]["merges"].push_back("he q!");
  EXPECT_TRUE(contains(load_error(missing), "model.merges[5]: token \"q!\" is not in model.vocab"));

  json malformed = tiny_byte_level();
  malformed["model"]["merges"].push_back("h e l");
  EXPECT_TRUE(contains(load_error(malformed), "model.merges[5]: expected two tokens separated by one space"));

  json duplicate = tiny_byte_level();
  duplicate["model"]["vocab"]["hello"] = 258;
  EXPECT_TRUE(contains(load_error(duplicate), "model.vocab: id 258 is given to both"));

  json gap = tiny_byte_level();
  gap["added_tokens"][0]["id"] = 300;
  EXPECT_TRUE(contains(load_error(gap), "id 261 has no token"));

  json regex = tiny_byte_level();
  regex["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}};
  EXPECT_TRUE(contains(load_error(regex), "pre_tokenizer.pattern.Regex: the regex does not compile"));

  json behavior = tiny_byte_level();
  behavior["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "Sideways"}};
  EXPECT_TRUE(contains(load_error(behavior), "pre_tokenizer.behavior: unknown split behaviour 'Sideways'"));

  json no_vocab = tiny_byte_level();
  no_vocab["model"].erase("vocab");
  EXPECT_TRUE(contains(load_error(no_vocab), "model.vocab: missing"));
}

TEST(HfTokenizer, RefusesBadIdsAndText) {
  test::TempDir dir;
  const std::string path = write(dir, tiny_byte_level().dump());
  const auto tokenizer = Tokenizer::load(path);
  EXPECT_TRUE(contains(user_error_message([&] { tokenizer->decode({1, 262}); }),
                       path + ": token id 262 is outside the vocabulary (0..261)"));
  EXPECT_TRUE(contains(user_error_message([&] { tokenizer->decode({-1}); }), "token id -1 is outside"));
  EXPECT_TRUE(contains(user_error_message([&] { tokenizer->encode("ok \xC3("); }), "not valid UTF-8 (byte 3)"));
}

TEST(HfTokenizer, SplitBehavioursAndMetaspace) {
  // A SentencePiece-style file: Metaspace pre-tokenizer and decoder, byte fallback for the rest.
  json vocab = {{"<unk>", 0}, {"▁a", 1}, {"▁", 2}, {"a", 3}, {"b", 4}, {"<0x21>", 5}};
  json file = {{"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", {"▁ a"}}, {"byte_fallback", true},
                          {"unk_token", "<unk>"}, {"fuse_unk", true}}},
               {"pre_tokenizer", {{"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", "first"}, {"split", true}}},
               {"decoder", {{"type", "Sequence"}, {"decoders", {{{"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", "first"}},
                                                                  {{"type", "ByteFallback"}}, {{"type", "Fuse"}}}}}}};
  test::TempDir dir;
  const auto tokenizer = Tokenizer::load(write(dir, file.dump()));
  // "a b!" -> "▁a", "▁b!" -> ▁a | ▁ b <0x21>; "cc" is not in the vocabulary: one fused <unk>.
  EXPECT_EQ(tokenizer->encode("a b!"), (std::vector<int64_t>{1, 2, 4, 5}));
  EXPECT_EQ(tokenizer->encode("acc"), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(tokenizer->decode({1, 2, 4, 5}), "a b!");
}

TEST(HfTokenizer, CommandLineForms) {
  test::TempDir dir;
  write(dir, tiny_byte_level().dump());
  const auto ids = test::run_lincat("tokenize " + dir.path() + " --text 'hello world'");
  EXPECT_EQ(ids.exit_code, 0) << ids.err;
  EXPECT_EQ(ids.out, "261,259,260,111,114,108,100\n");
  EXPECT_EQ(test::run_lincat("tokenize " + dir.path() + " --text 'hello world' --no-special").out,
            "259,260,111,114,108,100\n");
  const std::string text = write(dir, "hello\n\n", "text.txt");
  EXPECT_EQ(test::run_lincat("tokenize " + dir.file("tokenizer.json") + " --file " + text + " --no-special").out,
            "259,10,10\n");  // the newline is byte 10, id 10 here
  const auto back = test::run_lincat("detokenize " + dir.path() + " --ids 261,259,260");
  EXPECT_EQ(back.exit_code, 0) << back.err;
  EXPECT_EQ(back.out, "<|bos|>hello w");
  EXPECT_EQ(test::run_lincat("detokenize " + dir.path() + " --ids 261,259,260 --skip-special").out, "hello w");
  const auto bad = test::run_lincat("detokenize " + dir.path() + " --ids 1,999");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(contains(bad.err, "error: " + dir.file("tokenizer.json") + ": token id 999 is outside the vocabulary"));
  const auto neither = test::run_lincat("tokenize " + dir.path());
  EXPECT_EQ(neither.exit_code, 2);
  EXPECT_TRUE(contains(neither.err, "give exactly one of --text, --file and --jsonl"));
}

}  // namespace
}  // namespace lincat::io
