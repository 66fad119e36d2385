// model.safetensors.index.json on arbitrary bytes, next to two valid shards ("a" in the first,
// "b" in the second): refused with a UserError, or every tensor it lists can be found.
#include <filesystem>

#include "fuzz/fuzz_support.h"
#include "lincat/io/safetensors.h"
#include "lincat/util/error.h"

namespace {

namespace fs = std::filesystem;

// The model directory, with its shards written once.
const std::string& model_dir() {
  static const std::string dir = [] {
    const fs::path path = fs::path(lincat::fuzz::scratch_dir()) / "model";
    fs::create_directories(path);
    const float values[2] = {1.0f, 2.0f};
    lincat::io::write_safetensors((path / "model-00001-of-00002.safetensors").string(),
                                  {{"a", lincat::io::DType::F32, {2}, values, sizeof values}});
    lincat::io::write_safetensors((path / "model-00002-of-00002.safetensors").string(),
                                  {{"b", lincat::io::DType::F32, {1}, values, sizeof(float)}});
    return path.string();
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string& dir = model_dir();
  lincat::fuzz::write_input("model/model.safetensors.index.json", data, size);
  try {
    const lincat::io::CheckpointFiles checkpoint = lincat::io::CheckpointFiles::open_dir(dir);
    for (const std::string& name : checkpoint.tensor_names()) {
      if (!checkpoint.find(name).second) std::abort();  // listed but not found: a reader bug
    }
  } catch (const lincat::UserError&) {
  }
  return 0;
}
