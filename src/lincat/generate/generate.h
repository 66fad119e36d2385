// Autoregressive generation with a decode state: one prefill over the prompt, then one token at
// a time.
#pragma once
#include <functional>
#include <vector>

#include <optional>

#include "lincat/attention/modes.h"
#include "lincat/generate/sampler.h"
#include "lincat/model/model.h"

namespace lincat {

struct GenerationOptions {
  int64_t max_new_tokens = 32;
  SamplingOptions sampling;
  bool stop_at_eos = true;
  std::optional<attention::Mode> mode;  // default: the model's default mode
};

struct GenerationResult {
  std::vector<int64_t> new_ids;
  bool stopped_at_eos = false;
  double prefill_seconds = 0;
  double decode_seconds = 0;
  int64_t state_bytes = 0;  // decode-state memory at the end
};

// Calls on_token(id) as soon as each new token is chosen (for streaming).
GenerationResult generate(const Model& model, const std::vector<int64_t>& prompt,
                          const GenerationOptions& options,
                          const std::function<void(int64_t)>& on_token = {});

}  // namespace lincat
