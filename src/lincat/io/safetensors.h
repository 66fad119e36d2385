// safetensors files: memory-mapped reading with a fully validated header, and atomic writing.
// No libtorch here (see tensor_io.h for the bridge), so the parser is cheap to build and fuzz.
//
// Layout: u64 little-endian header length N, N bytes of JSON, then the data section.
// Header entries: "name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]} with
// offsets relative to the data section; optional "__metadata__": {string: string}.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace lincat::io {

// Element types lincat reads and writes. Weights are F32/F16/BF16; I64 carries token ids.
// Any other dtype in a header (U32, F8_E4M3, ...) is refused with its name.
enum class DType { F32, F16, BF16, I64 };

const char* dtype_name(DType dtype);        // "F32", ...
std::size_t dtype_size(DType dtype);        // bytes per element
// Parses a header dtype string; throws UserError naming `context` and the dtype if unsupported.
DType parse_dtype(const std::string& name, const std::string& context);

struct TensorInfo {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte offsets relative to the start of the data section
  uint64_t end = 0;
  int64_t numel() const;
};

// A read-only view of one safetensors file. The file is mapped copy-on-write (MAP_PRIVATE), so
// tensors built on top of the mapping may even be written to without touching the file.
class SafetensorsFile {
 public:
  // Opens, maps and validates `path`. Throws UserError naming the path (and the tensor) on any
  // problem: missing, unreadable or too short file, header length beyond the file or above
  // kMaxHeaderBytes, invalid JSON or not an object, a key given twice, an entry missing a field or
  // with the wrong JSON type, negative dimension, unsupported dtype, shape x dtype size != byte
  // span (or overflowing), begin > end, offsets outside the data section (truncated file),
  // overlapping tensors, "__metadata__" not string -> string. Gaps between tensors and trailing
  // bytes are accepted.
  static std::shared_ptr<const SafetensorsFile> open(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  static constexpr uint64_t kMaxHeaderBytes = 100ull << 20;  // 100 MiB, as the reference impl

  const std::string& path() const { return path_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }  // in data-offset order
  const TensorInfo* find(const std::string& name) const;              // nullptr if absent
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // Start of a tensor's bytes inside the mapping (writable copy-on-write memory).
  std::byte* data(const TensorInfo& info) const;

 private:
  SafetensorsFile() = default;
  std::string path_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
  std::byte* map_ = nullptr;
  std::size_t map_size_ = 0;
  std::size_t data_start_ = 0;
};

// One tensor to write: raw little-endian bytes, already in `dtype`.
struct TensorBytes {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const void* data;
  std::size_t nbytes;
};

// Writes a safetensors file atomically (to "<path>.tmp.<pid>", then rename). Header padded with
// spaces to a multiple of 8 so the data section is 8-byte aligned. Tensors keep the given order.
// Throws UserError for duplicate or empty names and I/O failures; std::invalid_argument if a
// tensor's nbytes does not match its shape and dtype (a caller bug).
void write_safetensors(const std::string& path, const std::vector<TensorBytes>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// The weight files of a model directory: either "model.safetensors" or the shards listed in
// "model.safetensors.index.json" (its "weight_map": tensor name -> shard file).
class CheckpointFiles {
 public:
  // The index wins when both files exist. Only tensors named in the index's weight_map are
  // visible. Throws UserError if the directory is missing, has neither file, the index is bad
  // JSON, names a missing shard, or a tensor is mapped to a shard that does not contain it.
  static CheckpointFiles open_dir(const std::string& dir);
  // A single safetensors file used as the whole checkpoint.
  static CheckpointFiles open_file(const std::string& path);

  std::vector<std::string> tensor_names() const;  // sorted
  // The file holding `name` and its info; throws UserError if absent.
  std::pair<std::shared_ptr<const SafetensorsFile>, const TensorInfo*> find(const std::string& name) const;
  bool contains(const std::string& name) const;
  const std::vector<std::shared_ptr<const SafetensorsFile>>& files() const { return files_; }
  const std::string& source() const { return source_; }  // the directory or file opened

 private:
  std::string source_;
  std::vector<std::shared_ptr<const SafetensorsFile>> files_;
  std::map<std::string, std::size_t> index_;  // tensor name -> position in files_
};

// Writes tensors as a Hugging Face checkpoint into `dir`: one "model.safetensors" when the total
// fits in `max_shard_bytes`, else "model-0000i-of-0000n.safetensors" shards plus
// "model.safetensors.index.json" ({"metadata": {"total_size": N}, "weight_map": {...}}).
// Every file is written atomically; stale weight files of the other layout are removed.
void write_checkpoint(const std::string& dir, const std::vector<TensorBytes>& tensors,
                      uint64_t max_shard_bytes = 5ull << 30,
                      const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

// The same layout for tensors made one shard at a time (a checkpoint larger than memory):
// `write_shard(path, members)` writes the tensors at positions `members` of `names` to `path`
// (with write_safetensors); `nbytes[i]` is the size of tensor i.
using ShardWriter = std::function<void(const std::string& path, const std::vector<std::size_t>& members)>;
void write_checkpoint_by_shard(const std::string& dir, const std::vector<std::string>& names,
                               const std::vector<uint64_t>& nbytes, uint64_t max_shard_bytes,
                               const ShardWriter& write_shard);

}  // namespace lincat::io
