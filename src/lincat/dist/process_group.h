// The processes of one run, connected through torch's c10d: a TCPStore rendezvous at
// MASTER_ADDR:MASTER_PORT and a Gloo process group (NCCL is for CUDA builds; see SCALING.md).
// With a world size of 1 nothing is connected and every collective returns at once, so the
// single-process path costs nothing. c10d stays inside process_group.cpp.
//
// Every collective throws UserError when a peer dies or the timeout passes, naming this rank, the
// failed operation and the transport's report, and suggesting --resume.
#pragma once
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "lincat/dist/settings.h"

namespace lincat::dist {

class Group {
 public:
  // Connects to the other world_size - 1 processes (waits up to the timeout for them).
  explicit Group(const Settings& settings);
  Group();  // a single process
  ~Group();
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;

  int rank() const { return settings_.rank; }
  int world_size() const { return settings_.world_size; }
  bool distributed() const { return settings_.distributed(); }
  bool writes_outputs() const { return settings_.writes_outputs(); }
  const Settings& settings() const { return settings_; }
  // "nccl" or "gloo" once connected; "none" for a single process.
  std::string backend() const;

  // Sums the tensors across ranks, in place, through one flat buffer per dtype. Undefined
  // tensors are not allowed; all ranks pass the same shapes in the same order.
  void all_reduce_sum(const std::vector<at::Tensor>& tensors);
  // Sums the values across ranks, in place (one float64 buffer).
  void all_reduce_sum(std::vector<double>& values);
  double all_reduce_sum(double value);
  // Copies `root`'s tensors into every rank's, in place.
  void broadcast(const std::vector<at::Tensor>& tensors, int root);
  void barrier();

  struct Impl;  // the c10d objects, defined in process_group.cpp

 private:
  Settings settings_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lincat::dist
