#include "lincat/train/lora.h"

#include <cmath>

#include "lincat/util/error.h"

namespace lincat::train {

void add_lora(Model& model, const LoraSettings& settings) {
  if (model.config.lora) throw UserError(model.directory + ": the model already has LoRA adapters; merge them first");
  check_lora_targets(settings.targets, "LoRA targets");
  LoraConfig config;
  config.rank = settings.rank;
  config.alpha = settings.alpha;
  config.targets = settings.targets;
  const auto options = at::TensorOptions().dtype(trained_dtype(model.dtype)).device(model.device);
  for (LayerWeights& layer : model.weights.layers) {
    for (const std::string& target : settings.targets) {
      const at::Tensor& base = projection_weight(layer, target);  // [out, in]
      const int64_t out = base.size(0), in = base.size(1);
      // PEFT's init: kaiming_uniform_(a=sqrt(5)) on A gives bound 1/sqrt(in).
      const double bound = 1.0 / std::sqrt(static_cast<double>(in));
      LoraAdapter& adapter = lora_adapter(layer, target);
      adapter.a = at::empty({settings.rank, in}, options).uniform_(-bound, bound);  // [r, in]
      adapter.b = at::zeros({out, settings.rank}, options);                          // [out, r]
      adapter.scale = config.scale();
      adapter.dropout = settings.dropout;
    }
  }
  model.config.lora = config;
}

void merge_lora(Model& model) {
  if (!model.config.lora) throw UserError(model.directory + ": the model has no LoRA adapters to merge");
  at::NoGradGuard no_grad;
  for (LayerWeights& layer : model.weights.layers) {
    for (const std::string& target : model.config.lora->targets) {
      LoraAdapter& adapter = lora_adapter(layer, target);
      at::Tensor& weight = projection_weight(layer, target);  // [out, in]
      const at::Tensor update = at::matmul(adapter.b.to(at::kFloat), adapter.a.to(at::kFloat)) * adapter.scale;
      weight = (weight.to(at::kFloat) + update).to(weight.scalar_type());
      adapter = LoraAdapter{};
    }
  }
  model.config.lora.reset();
}

}  // namespace lincat::train
