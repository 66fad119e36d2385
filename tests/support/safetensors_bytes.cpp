#include "support/safetensors_bytes.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace lincat::test {

std::string u64_le(uint64_t value) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  return bytes;
}

std::string tensor_entry(const std::string& name, const std::string& dtype, const std::vector<int64_t>& shape,
                         uint64_t begin, uint64_t end) {
  std::string shape_text;
  for (std::size_t i = 0; i < shape.size(); ++i) shape_text += (i ? "," : "") + std::to_string(shape[i]);
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":[" + shape_text + "],\"data_offsets\":[" +
         std::to_string(begin) + "," + std::to_string(end) + "]}";
}

std::string safetensors_bytes(const std::string& header_json, const std::string& data, bool pad_to_8) {
  std::string header = header_json;
  if (pad_to_8) header.append((8 - header.size() % 8) % 8, ' ');
  return u64_le(header.size()) + header + data;
}

std::string counting_bytes(std::size_t count) {
  std::string bytes(count, '\0');
  for (std::size_t i = 0; i < count; ++i) bytes[i] = static_cast<char>(i & 0xff);
  return bytes;
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("write_bytes: cannot write " + path);
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("read_bytes: cannot open " + path);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace lincat::test
