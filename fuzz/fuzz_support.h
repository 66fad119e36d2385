// What the fuzz targets share: the parsers read files, so each input is written into a scratch
// directory private to the fuzzing process.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace lincat::fuzz {

// A fresh directory under $TMPDIR (or /tmp), created on first use and removed at exit.
const std::string& scratch_dir();

// Writes `size` bytes to scratch_dir()/name and returns the file's path.
std::string write_input(const std::string& name, const uint8_t* data, std::size_t size);

}  // namespace lincat::fuzz
