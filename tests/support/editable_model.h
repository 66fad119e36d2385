// A copy of a model directory whose config.json and tensors a test edits before writing them
// into a temporary directory, to feed the loader one deliberate defect at a time.
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "support/temp_dir.h"

namespace lincat::test {

class EditableModel {
 public:
  explicit EditableModel(const std::string& source_directory);

  nlohmann::json config;
  std::vector<std::pair<std::string, at::Tensor>> tensors;

  at::Tensor& tensor(const std::string& name);  // throws if absent
  void remove_tensor(const std::string& name);
  // Writes config.json and model.safetensors; returns the directory.
  std::string write();

 private:
  TempDir dir_;
};

}  // namespace lincat::test
