// The tokenizer loader on arbitrary bytes: a UserError, or a tokenizer that encodes, decodes and
// names its pieces. SentencePiece itself runs uninstrumented in its own module, so this finds
// crashes there but is steered only by lincat's side of the boundary.
#include "fuzz/fuzz_support.h"
#include "lincat/io/tokenizer.h"
#include "lincat/util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string path = lincat::fuzz::write_input("tokenizer.model", data, size);
  std::unique_ptr<lincat::io::Tokenizer> tokenizer;
  try {
    tokenizer = lincat::io::Tokenizer::load(path);
  } catch (const lincat::UserError&) {
    return 0;
  }
  try {
    const std::vector<int64_t> ids = tokenizer->encode("Hello, world. 123 \xc3\xa9t\xc3\xa9");
    tokenizer->decode(ids);
    for (int64_t id = 0; id < std::min<int64_t>(tokenizer->vocab_size(), 64); ++id) tokenizer->piece(id);
    tokenizer->bos_id();
    tokenizer->eos_id();
  } catch (const lincat::UserError&) {
  }
  return 0;
}
