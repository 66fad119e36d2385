// A loaded model: configuration plus weights on one device, the pretrained weights in the compute
// dtype and the trained ones in trained_dtype(dtype) (see there). Inference never changes
// it: all per-sequence state lives in a DecodeState passed to the forward pass, and commands hold
// it as shared_ptr<const Model>. Training is the one writer: it adds LoRA adapters (train/lora.h)
// and trains feature maps, mixing logits and adapters in place (requires_grad).
#pragma once
#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lincat/model/model_config.h"
#include "lincat/model/weights.h"

namespace lincat {

struct LoadOptions {
  torch::Device device = torch::kCPU;
  // Compute dtype; weights are converted only if they differ. Undefined ("auto"): the
  // checkpoint's dtype on a GPU, float32 on the CPU.
  at::ScalarType dtype = at::kFloat;
  std::string weights_file;           // a single .safetensors to use instead of the directory's
};

struct Model {
  ModelConfig config;
  ModelWeights weights;
  at::Tensor inverse_frequencies;  // [d/2] float32, on device
  torch::Device device = torch::kCPU;
  at::ScalarType dtype = at::kFloat;
  std::string directory;
  std::vector<std::string> weight_files;
  std::map<std::string, int64_t> stored_dtypes;  // checkpoint dtype name -> tensor count
  at::ScalarType stored_dtype = at::ScalarType::Undefined;  // the pretrained weights' (embedding's) in the checkpoint
};

// Loads config.json and the weights of a Hugging Face model directory. Throws UserError naming
// the file and tensor for a missing or malformed file, a missing or unexpected tensor (all of
// them listed), a shape that disagrees with config.json (expected vs found), a non-float dtype,
// or NaN/Inf in any weight (lincat refuses such weights rather than computing garbage).
std::shared_ptr<const Model> load_model(const std::string& directory, const LoadOptions& options = {});

// "cpu" / "cuda" / "cuda:N"; SettingError naming `setting` if unknown or unavailable in this build.
torch::Device parse_device(const std::string& text, const std::string& setting = "device");
// The dtype the pretrained weights were stored in (what merge and convert write them back in);
// the compute dtype for a model not read from files.
at::ScalarType source_dtype(const Model& model);

// The dtype of the tensors a conversion trains (feature maps, mixing logits, LoRA) when the model
// computes in `compute`: float32 master copies for a 16-bit model, so that small updates are not
// rounded away (they are cast to the compute dtype where they are used; their gradients and AdamW
// state are float32 too); the compute dtype otherwise (float32, or float64 in the tests).
at::ScalarType trained_dtype(at::ScalarType compute);
// The dtype `slot`'s tensor lives in for a model computing in `compute`.
at::ScalarType slot_dtype(const TensorSlot& slot, at::ScalarType compute);

// "float32" / "bfloat16" / "float16", "auto" -> Undefined (see LoadOptions); SettingError naming
// `setting` otherwise.
at::ScalarType parse_dtype(const std::string& text, const std::string& setting = "dtype");
std::string dtype_name(at::ScalarType dtype);

}  // namespace lincat
