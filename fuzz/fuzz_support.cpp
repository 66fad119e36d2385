#include "fuzz/fuzz_support.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

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

}  // namespace lincat::fuzz
