#include "lincat/model/model_memory.h"

#include "lincat/util/error.h"
#include "lincat/util/memory.h"

namespace lincat {
namespace {

constexpr uint64_t kFloat32Bytes = 4;

uint64_t non_negative(int64_t value) { return value > 0 ? static_cast<uint64_t>(value) : 0; }

}  // namespace

uint64_t parameter_bytes(const ModelConfig& config, uint64_t element_size) {
  return saturating_product({non_negative(config.parameter_count()), element_size});
}

void check_model_fits(const ModelConfig& config, uint64_t element_size, const std::string& dtype,
                      const std::string& context) {
  const int64_t parameters = config.parameter_count();
  const std::string count = (parameters == INT64_MAX ? "at least " : "") + std::to_string(parameters);
  const uint64_t needed = parameter_bytes(config, element_size);
  const uint64_t physical = physical_memory_bytes();
  if (needed > physical) {
    throw UserError(context + ": the model (" + count + " parameters in " + dtype + ") needs " + gib_text(needed) +
                    ", this machine has " + gib_text(physical));
  }
}

uint64_t forward_bytes_lower_bound(const ModelConfig& config, int64_t batch, int64_t tokens, bool softmax) {
  const uint64_t b = non_negative(batch), t = non_negative(tokens);
  const uint64_t logits = saturating_product({b, t, non_negative(config.vocab_size), kFloat32Bytes});
  const uint64_t scores =
      softmax ? saturating_product({b, non_negative(config.num_heads), t, t, kFloat32Bytes}) : 0;
  return saturating_sum({logits, scores});
}

void check_forward_fits(const ModelConfig& config, int64_t batch, int64_t tokens, bool softmax) {
  const uint64_t needed = forward_bytes_lower_bound(config, batch, tokens, softmax);
  const uint64_t available = available_memory_bytes();
  if (needed > available) {
    throw UserError("a forward pass over " + std::to_string(batch) + " x " + std::to_string(tokens) +
                    " tokens needs at least " + gib_text(needed) + " (logits" +
                    (softmax ? " and softmax attention scores" : "") + "), " + gib_text(available) +
                    " is available");
  }
}

}  // namespace lincat
