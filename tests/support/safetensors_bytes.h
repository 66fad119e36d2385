// Hand-built safetensors file images, for tests that feed lincat malformed files.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace lincat::test {

// 8 bytes, little-endian.
std::string u64_le(uint64_t value);

// One header entry, e.g. tensor_entry("w", "F32", {2, 3}, 0, 24) ->
// "\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}". Join entries with ',' and
// wrap in braces to make a header.
std::string tensor_entry(const std::string& name, const std::string& dtype, const std::vector<int64_t>& shape,
                         uint64_t begin, uint64_t end);

// u64_le(header length) + header + data. With pad_to_8 the header gets trailing spaces so that
// the data section is 8-byte aligned (as real writers do); without, the header is used verbatim.
std::string safetensors_bytes(const std::string& header_json, const std::string& data, bool pad_to_8 = true);

// `count` bytes 0, 1, 2, ... (mod 256): recognisable tensor data.
std::string counting_bytes(std::size_t count);

void write_bytes(const std::string& path, const std::string& bytes);
std::string read_bytes(const std::string& path);

}  // namespace lincat::test
