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

// Loads the tokenizer file at `path` and, if it loads, encodes `text`, decodes the ids (with and
// without special tokens) and names the first pieces. UserErrors are expected; anything else is
// a finding.
void exercise_tokenizer(const std::string& path, const std::string& text);

}  // namespace lincat::fuzz
