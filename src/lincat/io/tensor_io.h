// The bridge between safetensors files (safetensors.h, no libtorch) and at::Tensor.
// Reading is zero-copy: tensors are views of the file's copy-on-write mapping and keep it alive.
#pragma once
#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lincat/io/safetensors.h"

namespace lincat::io {

at::ScalarType to_scalar_type(DType dtype);
// Throws UserError "<context> has dtype <torch dtype>; lincat writes ..." for other dtypes.
DType from_scalar_type(at::ScalarType type, const std::string& context);

// A CPU tensor over the tensor's bytes in the mapping; the tensor holds `file` alive. If the
// bytes are not aligned to the element size (a header whose length is not a multiple of 8), the
// tensor is a copy instead. Writing to the tensor never changes the file.
at::Tensor tensor_from_file(std::shared_ptr<const SafetensorsFile> file, const TensorInfo& info);
// The tensor `name` of a checkpoint; throws UserError if absent.
at::Tensor load_tensor(const CheckpointFiles& checkpoint, const std::string& name);

// Every tensor of a file, in file (data-offset) order.
std::vector<std::pair<std::string, at::Tensor>> load_safetensors(const std::string& path);
std::map<std::string, at::Tensor> load_safetensors_map(const std::string& path);

// Writes tensors (any device, any layout; copied to contiguous CPU memory) atomically. Each must
// be float32, float16, bfloat16 or int64, else UserError naming the tensor.
void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});
// Writes a Hugging Face checkpoint directory; see write_checkpoint in safetensors.h.
void save_checkpoint(const std::string& dir, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                     uint64_t max_shard_bytes = 5ull << 30,
                     const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

// lincat refuses weights holding NaN or Inf. Throws UserError naming `file` and `name` with the
// NaN and Inf counts and the first bad position. Integer tensors always pass.
void check_finite(const std::string& file, const std::string& name, const at::Tensor& tensor);

}  // namespace lincat::io
