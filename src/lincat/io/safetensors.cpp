#include "lincat/io/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "lincat/io/json_excerpt.h"
#include "lincat/util/atomic_file.h"
#include "lincat/util/error.h"

// Tensor data is little-endian on disk and handed out as raw memory.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "lincat assumes a little-endian host");

namespace lincat::io {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kSupportedDtypes = "F32, F16, BF16, I64";
constexpr const char* kSingleFileName = "model.safetensors";
constexpr const char* kIndexFileName = "model.safetensors.index.json";

// Dtypes of the safetensors format that lincat deliberately does not read, so that the message
// can say "unsupported" rather than "unknown".
const std::set<std::string>& known_unsupported_dtypes() {
  static const std::set<std::string> names = {
      "BOOL", "U8",       "I8",      "U16",      "I16",      "U32",     "I32",
      "U64",  "F64",      "F8_E4M3", "F8_E5M2",  "F8_E8M0",  "F4",      "F6_E2M3",
      "F6_E3M2", "C64"};
  return names;
}

std::string quoted(const std::string& name) { return "'" + name + "'"; }

std::string errno_text() { return std::strerror(errno); }

// "path: tensor 'name'" — the prefix of every message about one tensor.
std::string tensor_context(const std::string& path, const std::string& name) {
  return path + ": tensor " + quoted(name);
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

uint64_t read_u64_le(const std::byte* bytes) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | static_cast<uint64_t>(bytes[i]);
  return value;
}

// Number of bytes that `shape` of `dtype` occupies; throws if the product overflows 64 bits.
uint64_t checked_nbytes(const std::vector<int64_t>& shape, DType dtype, const std::string& context) {
  uint64_t total = dtype_size(dtype);
  for (int64_t dim : shape) {
    if (__builtin_mul_overflow(total, static_cast<uint64_t>(dim), &total)) {
      throw UserError(context + ": shape " + shape_text(shape) + " is too large (byte size overflows)");
    }
  }
  return total;
}

TensorInfo parse_tensor_entry(const std::string& path, const std::string& name, const json& entry) {
  const std::string context = tensor_context(path, name);
  if (!entry.is_object()) throw UserError(context + ": header entry is not a JSON object");
  for (const char* field : {"dtype", "shape", "data_offsets"}) {
    if (!entry.contains(field)) throw UserError(context + ": header entry has no \"" + field + "\"");
  }
  const json& dtype = entry["dtype"];
  const json& shape = entry["shape"];
  const json& offsets = entry["data_offsets"];
  if (!dtype.is_string()) throw UserError(context + ": \"dtype\" is not a string");
  if (!shape.is_array()) throw UserError(context + ": \"shape\" is not an array");
  if (!offsets.is_array() || offsets.size() != 2) {
    throw UserError(context + ": \"data_offsets\" is not an array of two integers");
  }

  TensorInfo info;
  info.name = name;
  info.dtype = parse_dtype(dtype.get<std::string>(), context);
  for (const json& dim : shape) {
    if (!dim.is_number_integer()) throw UserError(context + ": shape has a non-integer entry " + json_excerpt(dim));
    if (!dim.is_number_unsigned() && dim.get<int64_t>() < 0) {
      throw UserError(context + ": shape has a negative dimension " + json_excerpt(dim));
    }
    if (dim.is_number_unsigned() && dim.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      throw UserError(context + ": shape dimension " + json_excerpt(dim) + " is too large");
    }
    info.shape.push_back(dim.get<int64_t>());
  }
  for (const json& offset : offsets) {
    if (!offset.is_number_unsigned()) {
      throw UserError(context + ": \"data_offsets\" entry " + json_excerpt(offset) + " is not a non-negative integer");
    }
  }
  info.begin = offsets[0].get<uint64_t>();
  info.end = offsets[1].get<uint64_t>();
  if (info.begin > info.end) {
    throw UserError(context + ": data_offsets [" + std::to_string(info.begin) + ", " +
                    std::to_string(info.end) + "] end before they begin");
  }
  const uint64_t expected = checked_nbytes(info.shape, info.dtype, context);
  if (info.end - info.begin != expected) {
    throw UserError(context + ": shape " + shape_text(info.shape) + " of " + dtype_name(info.dtype) +
                    " needs " + std::to_string(expected) + " bytes but data_offsets span " +
                    std::to_string(info.end - info.begin));
  }
  return info;
}

std::map<std::string, std::string> parse_metadata(const std::string& path, const json& metadata) {
  if (!metadata.is_object()) throw UserError(path + ": \"__metadata__\" is not a JSON object");
  std::map<std::string, std::string> result;
  for (const auto& [key, value] : metadata.items()) {
    if (!value.is_string()) {
      throw UserError(path + ": \"__metadata__\" value of " + quoted(key) + " is not a string");
    }
    result[key] = value.get<std::string>();
  }
  return result;
}

// Checks that tensors (sorted by begin) lie inside the data section and do not share bytes.
void check_layout(const std::string& path, const std::vector<TensorInfo>& sorted, uint64_t data_size) {
  const TensorInfo* previous = nullptr;  // last non-empty tensor
  for (const TensorInfo& info : sorted) {
    if (info.end > data_size) {
      throw UserError(tensor_context(path, info.name) + ": data_offsets [" + std::to_string(info.begin) +
                      ", " + std::to_string(info.end) + "] go beyond the data section of " +
                      std::to_string(data_size) + " bytes (file truncated or offsets wrong)");
    }
    if (info.begin == info.end) continue;  // empty tensors occupy no bytes
    if (previous && info.begin < previous->end) {
      throw UserError(tensor_context(path, info.name) + ": data_offsets [" + std::to_string(info.begin) +
                      ", " + std::to_string(info.end) + "] overlap tensor " + quoted(previous->name) +
                      " at [" + std::to_string(previous->begin) + ", " + std::to_string(previous->end) + "]");
    }
    previous = &info;
  }
}

}  // namespace

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::I64: return "I64";
  }
  throw std::logic_error("dtype_name: invalid DType");
}

std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::F32: return 4;
    case DType::F16: return 2;
    case DType::BF16: return 2;
    case DType::I64: return 8;
  }
  throw std::logic_error("dtype_size: invalid DType");
}

DType parse_dtype(const std::string& name, const std::string& context) {
  if (name == "F32") return DType::F32;
  if (name == "F16") return DType::F16;
  if (name == "BF16") return DType::BF16;
  if (name == "I64") return DType::I64;
  if (known_unsupported_dtypes().count(name)) {
    throw UserError(context + " has dtype " + name + "; lincat reads " + kSupportedDtypes);
  }
  throw UserError(context + " has unknown dtype " + quoted(name) + "; lincat reads " + kSupportedDtypes);
}

int64_t TensorInfo::numel() const {
  int64_t count = 1;
  for (int64_t dim : shape) count *= dim;
  return count;
}

std::shared_ptr<const SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  std::shared_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = path;

  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw UserError(path + ": cannot open (" + errno_text() + ")");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    std::string reason = errno_text();
    ::close(fd);
    throw UserError(path + ": cannot stat (" + reason + ")");
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw UserError(path + ": not a regular file");
  }
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  if (file_size < 8) {
    ::close(fd);
    throw UserError(path + ": file is " + std::to_string(file_size) +
                    " bytes, too short for a safetensors file (at least 8)");
  }
  // Copy-on-write: tensors viewing the mapping may be modified in place without touching the file.
  void* map = ::mmap(nullptr, file_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  const std::string map_error = map == MAP_FAILED ? errno_text() : "";
  ::close(fd);  // the mapping keeps the file alive
  if (map == MAP_FAILED) throw UserError(path + ": cannot map (" + map_error + ")");
  file->map_ = static_cast<std::byte*>(map);
  file->map_size_ = file_size;

  // Checked against the limit first, so that an absurd length is refused before anything else.
  const uint64_t header_size = read_u64_le(file->map_);
  if (header_size > kMaxHeaderBytes) {
    throw UserError(path + ": header length " + std::to_string(header_size) + " exceeds the limit of " +
                    std::to_string(kMaxHeaderBytes) + " bytes (not a safetensors file?)");
  }
  if (header_size > file_size - 8) {
    throw UserError(path + ": header length " + std::to_string(header_size) + " is larger than the " +
                    std::to_string(file_size - 8) + " bytes that follow it (file truncated?)");
  }
  file->data_start_ = 8 + header_size;

  // Parsed straight from the mapping: no copy of the header. The callback notes a repeated
  // top-level key, which nlohmann would otherwise resolve silently by keeping the last entry.
  const char* header_begin = reinterpret_cast<const char*>(file->map_ + 8);
  std::set<std::string> top_level_keys;
  std::string duplicate_key;
  const json::parser_callback_t note_duplicates = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1 && !top_level_keys.insert(parsed.get<std::string>()).second &&
        duplicate_key.empty()) {
      duplicate_key = parsed.get<std::string>();
    }
    return true;
  };
  json header = json::parse(header_begin, header_begin + header_size, note_duplicates, /*allow_exceptions=*/false);
  if (header.is_discarded()) throw UserError(path + ": header is not valid JSON");
  if (!header.is_object()) throw UserError(path + ": header is not a JSON object");
  if (!duplicate_key.empty()) throw UserError(tensor_context(path, duplicate_key) + " appears twice in the header");

  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      file->metadata_ = parse_metadata(path, entry);
    } else {
      file->tensors_.push_back(parse_tensor_entry(path, name, entry));
    }
  }
  std::sort(file->tensors_.begin(), file->tensors_.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  check_layout(path, file->tensors_, file_size - file->data_start_);
  return file;
}

SafetensorsFile::~SafetensorsFile() {
  if (map_) ::munmap(map_, map_size_);
}

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
  for (const TensorInfo& info : tensors_) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

std::byte* SafetensorsFile::data(const TensorInfo& info) const { return map_ + data_start_ + info.begin; }

void write_safetensors(const std::string& path, const std::vector<TensorBytes>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  // Header: "__metadata__" first, then the tensors in the order their bytes follow.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const TensorBytes& tensor : tensors) {
    const std::string context = tensor_context(path, tensor.name);
    if (tensor.name.empty() || tensor.name == "__metadata__") {
      throw UserError(path + ": invalid tensor name " + quoted(tensor.name));
    }
    if (header.contains(tensor.name)) throw UserError(context + " is given twice");
    for (int64_t dim : tensor.shape) {
      if (dim < 0) throw UserError(context + ": negative dimension in shape " + shape_text(tensor.shape));
    }
    if (checked_nbytes(tensor.shape, tensor.dtype, context) != tensor.nbytes) {
      throw std::invalid_argument(context + ": " + std::to_string(tensor.nbytes) +
                                  " bytes given for shape " + shape_text(tensor.shape) + " of " +
                                  dtype_name(tensor.dtype));
    }
    header[tensor.name] = {{"dtype", dtype_name(tensor.dtype)},
                           {"shape", tensor.shape},
                           {"data_offsets", {offset, offset + tensor.nbytes}}};
    offset += tensor.nbytes;
  }
  std::string header_text = header.dump();
  // Spaces up to a multiple of 8: with the 8-byte length prefix the data section is 8-aligned.
  header_text.append((8 - header_text.size() % 8) % 8, ' ');

  std::byte length_prefix[8];
  for (int i = 0; i < 8; ++i) length_prefix[i] = static_cast<std::byte>(header_text.size() >> (8 * i));

  AtomicFile file(path);
  file.write(length_prefix, sizeof length_prefix);
  file.write(header_text);
  for (const TensorBytes& tensor : tensors) file.write(tensor.data, tensor.nbytes);
  file.commit();
}

namespace {

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(path + ": cannot open (" + errno_text() + ")");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw UserError(path + ": read failed");
  return text.str();
}

// "model.safetensors.index.json" -> shard file name for each tensor name.
std::map<std::string, std::string> read_weight_map(const std::string& index_path) {
  json index = json::parse(read_text_file(index_path), nullptr, /*allow_exceptions=*/false);
  if (index.is_discarded()) throw UserError(index_path + ": not valid JSON");
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object()) {
    throw UserError(index_path + ": has no \"weight_map\" object");
  }
  std::map<std::string, std::string> weight_map;
  for (const auto& [name, shard] : index["weight_map"].items()) {
    if (!shard.is_string()) throw UserError(index_path + ": weight_map entry " + quoted(name) + " is not a string");
    const std::string shard_name = shard.get<std::string>();
    // Shards are plain file names next to the index; anything else could point outside the model.
    if (shard_name.empty() || shard_name.find('/') != std::string::npos || shard_name == "." || shard_name == "..") {
      throw UserError(index_path + ": tensor " + quoted(name) + " maps to " + quoted(shard_name) +
                      ", which is not a file name in the same directory");
    }
    weight_map[name] = shard_name;
  }
  return weight_map;
}

// Shard names Hugging Face uses: "model-00001-of-00003.safetensors".
bool is_shard_file_name(const std::string& name) {
  static const std::regex pattern(R"(model-\d{5}-of-\d{5}\.safetensors)");
  return std::regex_match(name, pattern);
}

std::string shard_file_name(std::size_t index, std::size_t count) {
  char name[64];
  std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", index + 1, count);
  return name;
}

// Removes weight files in `dir` that are not in `keep`: the other layout's leftovers.
void remove_stale_weight_files(const fs::path& dir, const std::set<std::string>& keep) {
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    const bool weight_file = name == kSingleFileName || name == kIndexFileName || is_shard_file_name(name);
    if (weight_file && !keep.count(name)) {
      std::error_code error;
      fs::remove(entry.path(), error);
      if (error) throw UserError(entry.path().string() + ": cannot remove stale file (" + error.message() + ")");
    }
  }
}

}  // namespace

CheckpointFiles CheckpointFiles::open_dir(const std::string& dir) {
  std::error_code error;
  if (!fs::exists(dir, error)) throw UserError(dir + ": model directory does not exist");
  if (!fs::is_directory(dir, error)) throw UserError(dir + ": not a directory");

  const fs::path index_path = fs::path(dir) / kIndexFileName;
  const fs::path single_path = fs::path(dir) / kSingleFileName;
  CheckpointFiles checkpoint;
  checkpoint.source_ = dir;
  if (fs::exists(index_path, error)) {
    const std::string index_text = index_path.string();
    const std::map<std::string, std::string> weight_map = read_weight_map(index_text);
    std::map<std::string, std::size_t> shard_positions;  // shard file name -> position in files_
    for (const auto& [name, shard] : weight_map) {
      auto [it, inserted] = shard_positions.emplace(shard, checkpoint.files_.size());
      if (inserted) {
        const fs::path shard_path = fs::path(dir) / shard;
        if (!fs::is_regular_file(shard_path, error)) {
          throw UserError(index_text + ": tensor " + quoted(name) + " is in shard " + quoted(shard) +
                          ", which does not exist in " + dir);
        }
        checkpoint.files_.push_back(SafetensorsFile::open(shard_path.string()));
      }
      const SafetensorsFile& file = *checkpoint.files_[it->second];
      if (!file.find(name)) {
        throw UserError(index_text + ": tensor " + quoted(name) + " is mapped to " + file.path() +
                        ", which does not contain it");
      }
      checkpoint.index_[name] = it->second;
    }
    return checkpoint;
  }
  if (fs::exists(single_path, error)) {
    checkpoint = open_file(single_path.string());
    checkpoint.source_ = dir;
    return checkpoint;
  }
  throw UserError(dir + ": no weights found (expected " + kSingleFileName + " or " + kIndexFileName + ")");
}

CheckpointFiles CheckpointFiles::open_file(const std::string& path) {
  CheckpointFiles checkpoint;
  checkpoint.source_ = path;
  checkpoint.files_.push_back(SafetensorsFile::open(path));
  for (const TensorInfo& info : checkpoint.files_.front()->tensors()) checkpoint.index_[info.name] = 0;
  return checkpoint;
}

std::vector<std::string> CheckpointFiles::tensor_names() const {
  std::vector<std::string> names;
  names.reserve(index_.size());
  for (const auto& entry : index_) names.push_back(entry.first);
  return names;
}

std::pair<std::shared_ptr<const SafetensorsFile>, const TensorInfo*> CheckpointFiles::find(
    const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) throw UserError(source_ + ": no tensor " + quoted(name));
  const std::shared_ptr<const SafetensorsFile>& file = files_[it->second];
  return {file, file->find(name)};
}

bool CheckpointFiles::contains(const std::string& name) const { return index_.count(name) > 0; }

void write_checkpoint_by_shard(const std::string& dir, const std::vector<std::string>& names,
                               const std::vector<uint64_t>& nbytes, uint64_t max_shard_bytes,
                               const ShardWriter& write_shard) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) throw UserError(dir + ": cannot create directory (" + error.message() + ")");

  // Greedy packing in the given order; a tensor larger than the limit gets a shard of its own.
  std::vector<std::vector<std::size_t>> shards(1);
  uint64_t shard_bytes = 0;
  uint64_t total_bytes = 0;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!shards.back().empty() && shard_bytes + nbytes[i] > max_shard_bytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().push_back(i);
    shard_bytes += nbytes[i];
    total_bytes += nbytes[i];
  }

  if (shards.size() == 1) {
    write_shard((fs::path(dir) / kSingleFileName).string(), shards.front());
    remove_stale_weight_files(dir, {kSingleFileName});
    return;
  }
  // Shards first, then the index: readers prefer the index, so the new layout becomes visible
  // only once every shard it names is complete.
  std::set<std::string> written;
  json weight_map = json::object();
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const std::string name = shard_file_name(i, shards.size());
    write_shard((fs::path(dir) / name).string(), shards[i]);
    for (const std::size_t tensor : shards[i]) weight_map[names[tensor]] = name;
    written.insert(name);
  }
  const json index = {{"metadata", {{"total_size", total_bytes}}}, {"weight_map", weight_map}};
  write_file_atomically((fs::path(dir) / kIndexFileName).string(), index.dump(2) + "\n");
  written.insert(kIndexFileName);
  remove_stale_weight_files(dir, written);
}

void write_checkpoint(const std::string& dir, const std::vector<TensorBytes>& tensors,
                      uint64_t max_shard_bytes, const std::map<std::string, std::string>& metadata) {
  std::vector<std::string> names;
  std::vector<uint64_t> nbytes;
  for (const TensorBytes& tensor : tensors) {
    names.push_back(tensor.name);
    nbytes.push_back(tensor.nbytes);
  }
  write_checkpoint_by_shard(dir, names, nbytes, max_shard_bytes,
                            [&](const std::string& path, const std::vector<std::size_t>& members) {
    std::vector<TensorBytes> shard;
    for (const std::size_t i : members) shard.push_back(tensors[i]);
    write_safetensors(path, shard, metadata);
  });
}

}  // namespace lincat::io
