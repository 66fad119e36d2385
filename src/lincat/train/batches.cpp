#include "lincat/train/batches.h"

#include "lincat/train/schedules.h"

namespace lincat::train {

std::vector<int64_t> BatchOrder::batch(int64_t step) {
  std::vector<int64_t> out;
  for (int64_t j = 0; j < per_step_; ++j) {
    const int64_t position = step * per_step_ + j;
    out.push_back(permutation(position / n_)[static_cast<size_t>(position % n_)]);
  }
  return out;
}

const std::vector<int64_t>& BatchOrder::permutation(int64_t epoch) {
  if (epoch != epoch_) {
    order_.resize(static_cast<size_t>(n_));
    for (int64_t i = 0; i < n_; ++i) order_[static_cast<size_t>(i)] = i;
    std::mt19937_64 rng = step_generator(seed_, 0, epoch);
    for (int64_t i = n_ - 1; i > 0; --i) std::swap(order_[static_cast<size_t>(i)], order_[rng() % static_cast<uint64_t>(i + 1)]);
    epoch_ = epoch;
  }
  return order_;
}

void for_micro_batches(const TokenSequences& data, const std::vector<int64_t>& indices, int64_t global,
                       int64_t micro_batch, const std::function<void(const at::Tensor&, const at::Tensor&, double)>& each) {
  const auto count = static_cast<int64_t>(indices.size());
  for (int64_t start = 0; start < count; start += micro_batch) {
    const int64_t size = std::min(micro_batch, count - start);
    const at::Tensor index = torch::tensor(std::vector<int64_t>(indices.begin() + start, indices.begin() + start + size));
    each(data.ids.index_select(0, index), data.loss_mask.index_select(0, index),
         static_cast<double>(size) / static_cast<double>(global));
  }
}

std::vector<int64_t> all_indices(const TokenSequences& data) {
  std::vector<int64_t> out(static_cast<size_t>(data.count()));
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<int64_t>(i);
  return out;
}

}  // namespace lincat::train
