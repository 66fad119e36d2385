#include "lincat/train/checkpoint.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>

#include "lincat/io/safetensors.h"
#include "lincat/io/tensor_io.h"
#include "lincat/model/weights.h"
#include "lincat/util/error.h"

namespace lincat::train {
namespace {

using nlohmann::json;

json state_to_json(const TrainingState& s) {
  // best_eval is infinite until the first evaluation; JSON has no infinity.
  return {{"stage", s.stage},
          {"step", s.step},
          {"stage_finished", s.stage_finished},
          {"optimiser_steps", s.optimiser_steps},
          {"plateau_factor", s.plateau_factor},
          {"best_eval", std::isfinite(s.best_eval) ? json(s.best_eval) : json(nullptr)},
          {"evals_without_improvement", s.evals_without_improvement},
          {"tokens", s.tokens},
          {"seconds", s.seconds},
          {"log_lines", s.log_lines},
          {"seed", s.seed}};
}

TrainingState state_from_json(const json& j) {
  TrainingState s;
  s.stage = j.at("stage").get<int>();
  s.step = j.at("step").get<int64_t>();
  s.stage_finished = j.at("stage_finished").get<bool>();
  s.optimiser_steps = j.at("optimiser_steps").get<int64_t>();
  s.plateau_factor = j.at("plateau_factor").get<double>();
  if (!j.at("best_eval").is_null()) s.best_eval = j.at("best_eval").get<double>();
  s.evals_without_improvement = j.at("evals_without_improvement").get<int64_t>();
  s.tokens = j.at("tokens").get<int64_t>();
  s.seconds = j.at("seconds").get<double>();
  s.log_lines = j.at("log_lines").get<int64_t>();
  s.seed = j.at("seed").get<uint64_t>();
  return s;
}

}  // namespace

std::vector<NamedParameter> trainable_tensors(Model& model) {
  std::vector<NamedParameter> out;
  for (const TensorSlot& slot : tensor_slots(model.config, model.weights)) {
    if (slot.trained) out.push_back({slot.name, *slot.tensor});
  }
  return out;
}

void save_training_checkpoint(const std::string& path, const TrainingState& state, Model& model,
                              const AdamW* optimiser, const std::map<std::string, at::Tensor>& best) {
  save_training_checkpoint(path, state, trainable_tensors(model), optimiser, best);
}

void save_training_checkpoint(const std::string& path, const TrainingState& state,
                              const std::vector<NamedParameter>& parameters, const AdamW* optimiser,
                              const std::map<std::string, at::Tensor>& best) {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const NamedParameter& p : parameters) tensors.emplace_back("model." + p.name, p.tensor.detach());
  if (optimiser) {
    for (auto& entry : optimiser->state()) tensors.push_back(entry);
  }
  for (const auto& [name, tensor] : best) tensors.emplace_back("best." + name, tensor);
  io::save_safetensors(path, tensors, {{"lincat_training_state", state_to_json(state).dump()}});
}

LoadedCheckpoint load_training_checkpoint(const std::string& path) {
  if (!std::filesystem::exists(path)) {
    throw UserError(path + ": no checkpoint to resume from (the run finished, or never saved one)");
  }
  const auto file = io::SafetensorsFile::open(path);
  const auto found = file->metadata().find("lincat_training_state");
  if (found == file->metadata().end()) throw UserError(path + ": not a lincat training checkpoint");
  LoadedCheckpoint out;
  try {
    out.state = state_from_json(json::parse(found->second));
  } catch (const json::exception& e) {
    throw UserError(path + ": malformed training state (" + std::string(e.what()) + ")");
  }
  out.tensors = io::load_safetensors_map(path);
  return out;
}

void restore_trainable(Model& model, const LoadedCheckpoint& checkpoint, const std::string& path) {
  restore_parameters(trainable_tensors(model), checkpoint, path);
}

void restore_parameters(const std::vector<NamedParameter>& parameters, const LoadedCheckpoint& checkpoint,
                        const std::string& path) {
  at::NoGradGuard no_grad;
  for (const NamedParameter& p : parameters) {
    const auto found = checkpoint.tensors.find("model." + p.name);
    if (found == checkpoint.tensors.end()) throw UserError(path + ": missing tensor 'model." + p.name + "'");
    if (found->second.sizes() != p.tensor.sizes()) {
      throw UserError(path + ": tensor 'model." + p.name + "' does not match the model's shape");
    }
    p.tensor.copy_(found->second);
  }
}

std::map<std::string, at::Tensor> best_tensors(const LoadedCheckpoint& checkpoint) {
  std::map<std::string, at::Tensor> best;
  for (const auto& [name, tensor] : checkpoint.tensors) {
    if (name.rfind("best.", 0) == 0) best[name.substr(5)] = tensor.clone();
  }
  return best;
}

}  // namespace lincat::train
