// Which training sequences each step sees, and micro-batching: shared by every training loop.
#pragma once
#include <torch/torch.h>

#include <functional>
#include <vector>

#include "lincat/train/data.h"

namespace lincat::train {

// Sequence indices of each step: epochs of the training sequences, each in the order of a
// permutation drawn from (seed, epoch), so a step's batch depends on the step alone.
class BatchOrder {
 public:
  BatchOrder(int64_t sequences, int64_t per_step, uint64_t seed) : n_(sequences), per_step_(per_step), seed_(seed) {}
  std::vector<int64_t> batch(int64_t step);

 private:
  const std::vector<int64_t>& permutation(int64_t epoch);
  int64_t n_, per_step_;
  uint64_t seed_;
  int64_t epoch_ = -1;
  std::vector<int64_t> order_;
};

// Calls `each(ids [b, T], loss_mask [b, T], b / global)` on micro-batches of the given sequences,
// `global` being the size of the batch (across all ranks) they are part of.
void for_micro_batches(const TokenSequences& data, const std::vector<int64_t>& indices, int64_t global,
                       int64_t micro_batch, const std::function<void(const at::Tensor&, const at::Tensor&, double)>& each);

// 0 .. data.count() - 1.
std::vector<int64_t> all_indices(const TokenSequences& data);

}  // namespace lincat::train
