#include "support/editable_model.h"

#include <algorithm>
#include <stdexcept>

#include "lincat/io/hf_config.h"
#include "lincat/io/tensor_io.h"

namespace lincat::test {

EditableModel::EditableModel(const std::string& source_directory)
    : config(io::read_json_file(source_directory + "/config.json")),
      tensors(io::load_safetensors(source_directory + "/model.safetensors")) {}

at::Tensor& EditableModel::tensor(const std::string& name) {
  for (auto& [n, t] : tensors) {
    if (n == name) return t;
  }
  throw std::invalid_argument("no tensor " + name);
}

void EditableModel::remove_tensor(const std::string& name) {
  tensors.erase(std::remove_if(tensors.begin(), tensors.end(), [&](const auto& t) { return t.first == name; }),
                tensors.end());
}

std::string EditableModel::write() {
  io::write_json_file(dir_.file("config.json"), config);
  io::save_safetensors(dir_.file("model.safetensors"), tensors);
  return dir_.path();
}

}  // namespace lincat::test
