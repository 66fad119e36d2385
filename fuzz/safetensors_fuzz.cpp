// The safetensors reader on arbitrary bytes: it either refuses them with a UserError or returns a
// file whose every tensor lies inside the mapping (which this target then reads end to end).
#include <cstring>

#include "fuzz/fuzz_support.h"
#include "lincat/io/safetensors.h"
#include "lincat/util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string path = lincat::fuzz::write_input("input.safetensors", data, size);
  std::shared_ptr<const lincat::io::SafetensorsFile> file;
  try {
    file = lincat::io::SafetensorsFile::open(path);
  } catch (const lincat::UserError&) {
    return 0;
  }
  unsigned char checksum = 0;  // touches every byte: a tensor outside the mapping crashes here
  for (const lincat::io::TensorInfo& info : file->tensors()) {
    if (file->find(info.name) != &info) std::abort();
    const std::byte* bytes = file->data(info);
    for (uint64_t i = 0; i < info.end - info.begin; ++i) checksum ^= static_cast<unsigned char>(bytes[i]);
    (void)info.numel();
  }
  volatile unsigned char sink = checksum;
  (void)sink;
  return 0;
}
