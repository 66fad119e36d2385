// The tokenizer loader on arbitrary bytes: a UserError, or a tokenizer that encodes, decodes and
// names its pieces. SentencePiece itself runs uninstrumented in its own module, so this finds
// crashes there but is steered only by lincat's side of the boundary. (Inputs that start with '{'
// are read as tokenizer.json: hf_tokenizer_fuzz steers those.)
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string path = lincat::fuzz::write_input("tokenizer.model", data, size);
  lincat::fuzz::exercise_tokenizer(path, "Hello, world. 123 \xc3\xa9t\xc3\xa9");
  return 0;
}
