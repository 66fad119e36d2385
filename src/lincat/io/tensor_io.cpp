#include "lincat/io/tensor_io.h"

#include <algorithm>
#include <cstring>
#include <sstream>

#include "lincat/util/error.h"

namespace lincat::io {

namespace {

// Contiguous CPU copies of the tensors, kept alive while their bytes are written.
struct CpuTensors {
  std::vector<at::Tensor> storage;
  std::vector<TensorBytes> bytes;
};

CpuTensors to_cpu_bytes(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors) {
  CpuTensors result;
  result.storage.reserve(tensors.size());
  result.bytes.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors) {
    const std::string context = path + ": tensor '" + name + "'";
    if (!tensor.defined()) throw UserError(context + " is undefined");
    const DType dtype = from_scalar_type(tensor.scalar_type(), context);
    at::Tensor cpu = tensor.detach().to(at::kCPU).contiguous();
    result.storage.push_back(cpu);
    result.bytes.push_back(TensorBytes{name, dtype, cpu.sizes().vec(), cpu.data_ptr(),
                                       static_cast<std::size_t>(cpu.numel()) * cpu.element_size()});
  }
  return result;
}

}  // namespace

at::ScalarType to_scalar_type(DType dtype) {
  switch (dtype) {
    case DType::F32: return at::kFloat;
    case DType::F16: return at::kHalf;
    case DType::BF16: return at::kBFloat16;
    case DType::I64: return at::kLong;
  }
  throw std::logic_error("to_scalar_type: invalid DType");
}

DType from_scalar_type(at::ScalarType type, const std::string& context) {
  switch (type) {
    case at::kFloat: return DType::F32;
    case at::kHalf: return DType::F16;
    case at::kBFloat16: return DType::BF16;
    case at::kLong: return DType::I64;
    default:
      throw UserError(context + " has dtype " + std::string(c10::toString(type)) +
                      "; lincat writes float32, float16, bfloat16, int64");
  }
}

at::Tensor tensor_from_file(std::shared_ptr<const SafetensorsFile> file, const TensorInfo& info) {
  const auto options = at::TensorOptions().dtype(to_scalar_type(info.dtype)).device(at::kCPU);
  std::byte* data = file->data(info);
  if (info.numel() == 0) return at::empty(info.shape, options);
  if (reinterpret_cast<std::uintptr_t>(data) % dtype_size(info.dtype) != 0) {
    at::Tensor copy = at::empty(info.shape, options);  // [shape]
    std::memcpy(copy.data_ptr(), data, info.end - info.begin);
    return copy;
  }
  // The deleter owns a reference to the file, so the mapping outlives every view of it.
  return torch::from_blob(data, info.shape, [file](void*) {}, options);
}

at::Tensor load_tensor(const CheckpointFiles& checkpoint, const std::string& name) {
  auto [file, info] = checkpoint.find(name);
  return tensor_from_file(file, *info);
}

std::vector<std::pair<std::string, at::Tensor>> load_safetensors(const std::string& path) {
  std::shared_ptr<const SafetensorsFile> file = SafetensorsFile::open(path);
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  tensors.reserve(file->tensors().size());
  for (const TensorInfo& info : file->tensors()) tensors.emplace_back(info.name, tensor_from_file(file, info));
  return tensors;
}

std::map<std::string, at::Tensor> load_safetensors_map(const std::string& path) {
  std::map<std::string, at::Tensor> tensors;
  for (auto& [name, tensor] : load_safetensors(path)) tensors.emplace(name, std::move(tensor));
  return tensors;
}

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  const CpuTensors cpu = to_cpu_bytes(path, tensors);
  write_safetensors(path, cpu.bytes, metadata);
}

void save_checkpoint(const std::string& dir, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                     uint64_t max_shard_bytes, const std::map<std::string, std::string>& metadata) {
  const CpuTensors cpu = to_cpu_bytes(dir, tensors);
  write_checkpoint(dir, cpu.bytes, max_shard_bytes, metadata);
}

void check_finite(const std::string& file, const std::string& name, const at::Tensor& tensor) {
  if (!at::isFloatingType(tensor.scalar_type())) return;
  const at::Tensor flat = tensor.detach().reshape({-1});  // [numel]
  // In slices: isfinite's temporaries for a whole 8B embedding would be ~2.5 GB next to weights
  // that are read in place.
  constexpr int64_t kSlice = int64_t{1} << 24;
  bool all_finite = true;
  for (int64_t start = 0; start < flat.numel() && all_finite; start += kSlice) {
    all_finite = at::isfinite(flat.narrow(0, start, std::min(kSlice, flat.numel() - start))).all().item<bool>();
  }
  if (all_finite) return;
  const at::Tensor finite = at::isfinite(flat);  // [numel] bool
  const int64_t nan_count = at::isnan(flat).sum().item<int64_t>();
  const int64_t inf_count = at::isinf(flat).sum().item<int64_t>();
  const int64_t first_bad = at::logical_not(finite).nonzero()[0][0].item<int64_t>();
  std::ostringstream message;
  message << file << ": tensor '" << name << "' has " << nan_count << " NaN and " << inf_count
          << " Inf values out of " << flat.numel() << " (first at flat index " << first_bad
          << "); lincat refuses non-finite weights";
  throw UserError(message.str());
}

}  // namespace lincat::io
