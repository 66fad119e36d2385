// The merged export: `lincat merge` written in the dtype the converted model was stored in.
#include <algorithm>
#include <filesystem>

#include "lincat/io/export_common.h"
#include "lincat/io/safetensors.h"
#include "lincat/io/tensor_io.h"
#include "lincat/model/converted_model.h"
#include "lincat/train/lora.h"
#include "lincat/util/error.h"

namespace lincat::io {
namespace {

namespace fs = std::filesystem;

}  // namespace

std::vector<std::string> export_merged(const std::string& model_dir, const std::string& out_dir) {
  Model model = *load_model(model_dir);  // float32: the LoRA is folded in float32, then rounded once
  if (!model.config.hybrid) {
    throw UserError(model_dir + ": not a converted model (config.json has no \"lincat\" section)");
  }
  if (model.config.lora) train::merge_lora(model);
  const at::ScalarType dtype = source_dtype(model);
  for (const TensorSlot& slot : tensor_slots(model.config, model.weights)) *slot.tensor = slot.tensor->to(dtype);
  if (model.config.tie_word_embeddings) model.weights.lm_head = model.weights.embed_tokens;
  model.dtype = dtype;
  save_model(model, out_dir);
  std::vector<std::string> written;
  for (const auto& entry : fs::directory_iterator(out_dir)) written.push_back(entry.path().string());
  std::sort(written.begin(), written.end());
  return written;
}

}  // namespace lincat::io
