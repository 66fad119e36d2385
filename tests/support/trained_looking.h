// A converted model moved off its initialisation as training would move it, so that every branch
// carries weight in a test.
#pragma once
#include <cstdint>

#include "lincat/model/model.h"

namespace lincat::test {

// Feature maps + 0.3 N(0, 1) and mixing logits N(0, 1), drawn from torch's generator seeded with
// `seed` (layers without feature maps get only new mixing logits).
void perturb_hybrid_weights(Model& model, uint64_t seed);

}  // namespace lincat::test
