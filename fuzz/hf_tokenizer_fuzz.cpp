// The tokenizer.json parser and the encoder on arbitrary bytes. An input is a tokenizer.json,
// then optionally a NUL byte and a text to encode with it: a UserError, or ids that decode.
#include <cstring>

#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const auto* separator = static_cast<const uint8_t*>(std::memchr(data, 0, size));
  const std::size_t json_size = separator ? static_cast<std::size_t>(separator - data) : size;
  const std::string text = separator ? std::string(reinterpret_cast<const char*>(separator + 1), size - json_size - 1)
                                     : std::string("Hello, world! 123 caf\xc3\xa9 <s>\n\n  x");
  lincat::fuzz::exercise_tokenizer(lincat::fuzz::write_input("tokenizer.json", data, json_size), text);
  return 0;
}
