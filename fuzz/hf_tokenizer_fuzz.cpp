// The tokenizer.json parser and the encoder on arbitrary bytes. An input is a tokenizer.json,
// then optionally a NUL byte and a text to encode with it: a UserError, or ids that decode
// without failing (and, for valid UTF-8 text, an encoder that never crashes on it).
#include <cstring>

#include "fuzz/fuzz_support.h"
#include "lincat/io/tokenizer.h"
#include "lincat/util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const auto* separator = static_cast<const uint8_t*>(std::memchr(data, 0, size));
  const std::size_t json_size = separator ? static_cast<std::size_t>(separator - data) : size;
  const std::string text = separator ? std::string(reinterpret_cast<const char*>(separator + 1), size - json_size - 1)
                                     : std::string("Hello, world! 123 caf\xc3\xa9 <s>\n\n  x");
  const std::string path = lincat::fuzz::write_input("tokenizer.json", data, json_size);
  std::unique_ptr<lincat::io::Tokenizer> tokenizer;
  try {
    tokenizer = lincat::io::Tokenizer::load(path);
  } catch (const lincat::UserError&) {
    return 0;
  }
  try {
    const std::vector<int64_t> ids = tokenizer->encode_with_special(text);
    tokenizer->decode(ids);
    tokenizer->decode(ids, /*skip_special=*/true);
    for (int64_t id = 0; id < std::min<int64_t>(tokenizer->vocab_size(), 64); ++id) tokenizer->piece(id);
  } catch (const lincat::UserError&) {
  }
  return 0;
}
