#include "fuzz/fuzz_support.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "lincat/io/tokenizer.h"
#include "lincat/util/error.h"

namespace lincat::fuzz {

namespace fs = std::filesystem;

const std::string& scratch_dir() {
  // Never destroyed: the removal at exit runs after static destructors would have run.
  static const std::string& dir = *new std::string([] {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/lincat-fuzz-XXXXXX";
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("cannot create " + pattern);
    return pattern;
  }());
  static const bool removed_at_exit = std::atexit([] {
    std::error_code ignored;
    fs::remove_all(scratch_dir(), ignored);
  }) == 0;
  (void)removed_at_exit;
  return dir;
}

std::string write_input(const std::string& name, const uint8_t* data, std::size_t size) {
  const std::string path = (fs::path(scratch_dir()) / name).string();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out.flush()) throw std::runtime_error("cannot write " + path);
  return path;
}

void exercise_tokenizer(const std::string& path, const std::string& text) {
  std::unique_ptr<io::Tokenizer> tokenizer;
  try {
    tokenizer = io::Tokenizer::load(path);
  } catch (const UserError&) {
    return;
  }
  try {
    const std::vector<int64_t> ids = tokenizer->encode_with_special(text);
    tokenizer->decode(ids);
    tokenizer->decode(ids, /*skip_special=*/true);
    for (int64_t id = 0; id < std::min<int64_t>(tokenizer->vocab_size(), 64); ++id) tokenizer->piece(id);
    tokenizer->bos_id();
    tokenizer->eos_id();
  } catch (const UserError&) {
  }
}

}  // namespace lincat::fuzz
