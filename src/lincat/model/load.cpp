#include <algorithm>
#include <filesystem>

#include "lincat/io/hf_config.h"
#include "lincat/io/safetensors.h"
#include "lincat/io/tensor_io.h"
#include "lincat/model/model.h"
#include "lincat/model/model_memory.h"
#include "lincat/model/rope.h"
#include "lincat/util/error.h"
#include "lincat/util/huge_pages.h"
#include "lincat/util/memory.h"

namespace lincat {
namespace {

namespace fs = std::filesystem;

// Tensors some checkpoints carry that the decoder recomputes or does not need.
bool ignorable(const std::string& name, const ModelConfig& config) {
  if (name.find("rotary_emb.inv_freq") != std::string::npos) return true;
  return config.tie_word_embeddings && name == "lm_head.weight";
}

int64_t shape_numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (const int64_t size : shape) n *= size;
  return n;
}

std::string join_limited(const std::vector<std::string>& names, size_t limit) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < limit; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > limit) out += ", ... (" + std::to_string(names.size()) + " in all)";
  return out;
}

}  // namespace

std::shared_ptr<const Model> load_model(const std::string& directory, const LoadOptions& options) {
  if (!fs::is_directory(directory)) throw UserError(directory + ": model directory not found");
  auto model = std::make_shared<Model>();
  model->directory = directory;
  model->device = options.device;
  model->dtype = options.dtype;
  const std::string config_path = (fs::path(directory) / "config.json").string();
  model->config = io::load_model_config(config_path);
  const ModelConfig& config = model->config;
  // Before the layer table or any tensor exists. Device memory is left to the device's allocator.
  // --dtype auto on the CPU: float32, unless only the checkpoint's 16-bit weights fit in memory
  // (read in place from the mapped files, without a copy).
  if (options.device.is_cpu() && model->dtype == at::ScalarType::Undefined &&
      parameter_bytes(config, sizeof(float)) > physical_memory_bytes() &&
      (config.torch_dtype == "bfloat16" || config.torch_dtype == "float16")) {
    model->dtype = parse_dtype(config.torch_dtype);
  }
  if (options.device.is_cpu()) {
    const at::ScalarType dtype = model->dtype == at::ScalarType::Undefined ? at::kFloat : model->dtype;
    check_model_fits(config, at::elementSize(dtype), dtype_name(dtype), config_path);
  }

  const io::CheckpointFiles checkpoint = options.weights_file.empty()
                                             ? io::CheckpointFiles::open_dir(directory)
                                             : io::CheckpointFiles::open_file(options.weights_file);
  for (const auto& file : checkpoint.files()) model->weight_files.push_back(file->path());

  model->weights.layers.resize(static_cast<size_t>(config.num_layers));
  const std::vector<TensorSlot> slots = tensor_slots(config, model->weights);

  std::vector<std::string> missing;
  for (const TensorSlot& slot : slots) {
    if (!checkpoint.contains(slot.name)) missing.push_back(slot.name);
  }
  std::vector<std::string> unexpected;
  std::vector<std::string> expected_names;
  for (const TensorSlot& slot : slots) expected_names.push_back(slot.name);
  std::sort(expected_names.begin(), expected_names.end());
  for (const std::string& name : checkpoint.tensor_names()) {
    if (!std::binary_search(expected_names.begin(), expected_names.end(), name) && !ignorable(name, config)) {
      unexpected.push_back(name);
    }
  }
  if (!missing.empty() || !unexpected.empty()) {
    std::string message = directory + ": the weights do not match config.json (" + config.architecture + ")";
    if (!missing.empty()) message += "; missing tensors: " + join_limited(missing, 8);
    if (!unexpected.empty()) message += "; unexpected tensors: " + join_limited(unexpected, 8);
    throw UserError(message);
  }

  for (const TensorSlot& slot : slots) {
    const auto [file, info] = checkpoint.find(slot.name);
    if (info->shape != slot.shape) {
      throw UserError(file->path() + ": tensor '" + slot.name + "' has shape " + shape_string(info->shape) +
                      ", expected " + shape_string(slot.shape) + " from config.json");
    }
    if (info->dtype == io::DType::I64) {
      throw UserError(file->path() + ": tensor '" + slot.name + "' has dtype I64; weights must be F32, F16 or BF16");
    }
    ++model->stored_dtypes[io::dtype_name(info->dtype)];
    if (slot.tensor == &model->weights.embed_tokens) model->stored_dtype = io::to_scalar_type(info->dtype);
  }
  // --dtype auto: the checkpoint's dtype on a GPU; float32 on the CPU, where 16-bit matmuls are slow.
  if (model->dtype == at::ScalarType::Undefined) model->dtype = options.device.is_cpu() ? at::kFloat : source_dtype(*model);
  // On the CPU a float32 (or float64) model's pretrained weights are copied into memory backed by
  // huge pages (util/huge_pages.h: decode streams them faster from there) when the copy fits in
  // the memory available now. Otherwise they stay as before: read in place from the mapped files
  // where the dtype matches (a model that fits only that way still loads, paged from its files),
  // converted on the heap where it does not. 16-bit models always stay in place.
  std::vector<util::TensorSpec> resident_specs;
  if (options.device.is_cpu() && at::elementSize(model->dtype) >= 4) {
    uint64_t resident_bytes = 0;
    for (const TensorSlot& slot : slots) {
      if (slot.trained) continue;
      resident_specs.push_back({slot.shape, slot_dtype(slot, model->dtype)});
      resident_bytes += static_cast<uint64_t>(shape_numel(slot.shape)) * at::elementSize(resident_specs.back().dtype);
    }
    if (resident_bytes > available_memory_bytes()) resident_specs.clear();
  }
  const bool in_huge_pages = !resident_specs.empty();
  std::vector<at::Tensor> resident = util::empty_in_huge_pages(resident_specs);
  size_t next_resident = 0;
  for (const TensorSlot& slot : slots) {
    const auto [file, info] = checkpoint.find(slot.name);
    const at::Tensor stored = io::tensor_from_file(file, *info);  // zero-copy view of the mapping
    io::check_finite(file->path(), slot.name, stored);
    if (in_huge_pages && !slot.trained) {
      *slot.tensor = resident[next_resident++].copy_(stored);
    } else {
      // The one copy: only when the dtype or device differs from the file.
      *slot.tensor = stored.to(options.device, slot_dtype(slot, model->dtype));
    }
  }
  if (config.tie_word_embeddings) model->weights.lm_head = model->weights.embed_tokens;
  set_lora_scales(config, model->weights);
  model->inverse_frequencies = rope::inverse_frequencies(config).to(options.device);
  return model;
}

torch::Device parse_device(const std::string& text, const std::string& setting) {
  if (text == "cpu") return torch::kCPU;
  if (text == "cuda" || text.rfind("cuda:", 0) == 0) {
    if (!torch::cuda::is_available()) {
      throw SettingError(setting, " " + text + ": no CUDA device is available to this build of libtorch");
    }
    try {
      return torch::Device(text);
    } catch (const std::exception&) {
      throw SettingError(setting, " " + text + ": not a valid device");
    }
  }
  throw SettingError(setting, " '" + text + "': expected cpu or cuda[:N]");
}

at::ScalarType source_dtype(const Model& model) {
  return model.stored_dtype == at::ScalarType::Undefined ? model.dtype : model.stored_dtype;
}

at::ScalarType trained_dtype(at::ScalarType compute) {
  return compute == at::kBFloat16 || compute == at::kHalf ? at::kFloat : compute;
}

at::ScalarType slot_dtype(const TensorSlot& slot, at::ScalarType compute) {
  return slot.trained ? trained_dtype(compute) : compute;
}

at::ScalarType parse_dtype(const std::string& text, const std::string& setting) {
  if (text == "auto") return at::ScalarType::Undefined;
  if (text == "float32") return at::kFloat;
  if (text == "bfloat16") return at::kBFloat16;
  if (text == "float16") return at::kHalf;
  throw SettingError(setting, " '" + text + "': expected auto, float32, bfloat16 or float16");
}

std::string dtype_name(at::ScalarType dtype) {
  switch (dtype) {
    case at::kFloat: return "float32";
    case at::kBFloat16: return "bfloat16";
    case at::kHalf: return "float16";
    case at::kDouble: return "float64";
    default: return c10::toString(dtype);
  }
}

}  // namespace lincat
