#include "lincat/train/pretrain.h"

#include <algorithm>
#include <csignal>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lincat/dist/process_group.h"
#include "lincat/dist/shard.h"
#include "lincat/eval/probes.h"
#include "lincat/io/hf_config.h"
#include "lincat/io/tensor_io.h"
#include "lincat/io/tokenizer.h"
#include "lincat/model/decoder.h"
#include "lincat/model/rope.h"
#include "lincat/train/batches.h"
#include "lincat/train/convert.h"
#include "lincat/train/interrupt.h"
#include "lincat/train/stage_loop.h"
#include "lincat/train/synthetic.h"
#include "lincat/train/token_cache.h"
#include "lincat/train/tokenizer_training.h"
#include "lincat/util/atomic_file.h"
#include "lincat/util/error.h"

namespace lincat::train {
namespace {

namespace fs = std::filesystem;

// Every tensor of the model under its checkpoint name (a tied lm_head is embed_tokens); the
// RMSNorm gains are exempt from weight decay.
std::vector<NamedParameter> all_parameters(Model& model) {
  std::vector<NamedParameter> out;
  for (const TensorSlot& slot : tensor_slots(model.config, model.weights)) {
    out.push_back({slot.name, *slot.tensor, slot.shape.size() > 1});
  }
  return out;
}

bool is_output_projection(const std::string& name) {
  return name.find(".o_proj.") != std::string::npos || name.find(".down_proj.") != std::string::npos;
}

// Mean next-token cross-entropy of ids [B, T] over the loss mask [B, T] (softmax attention);
// with `backward`, accumulates d(scale * loss)/d(weights).
double language_model_loss(const Model& model, const at::Tensor& ids, const at::Tensor& loss_mask, double scale,
                           bool backward) {
  const int64_t T = ids.size(1);
  const at::Tensor logits = forward(model, ids, attention::Mode::Softmax).narrow(1, 0, T - 1);  // [B, T-1, V]
  const at::Tensor targets = ids.narrow(1, 1, T - 1);                                            // [B, T-1]
  const at::Tensor mask = loss_mask.narrow(1, 1, T - 1);                                         // [B, T-1]
  const at::Tensor nll = -at::log_softmax(logits, -1).gather(-1, targets.unsqueeze(-1)).squeeze(-1);  // [B, T-1]
  const at::Tensor loss = (nll * mask).sum() / mask.sum().clamp_min(1);
  if (backward) (loss * scale).backward();
  return loss.item<double>();
}

// The tokenizer the run uses: --tokenizer copied in, or one trained on the data (or, on
// --resume, the one the interrupted run wrote).
std::string prepare_tokenizer(const PretrainOptions& o, std::ostream& out) {
  if (o.resume && !io::Tokenizer::find_in(o.out_dir).empty()) return io::Tokenizer::find_in(o.out_dir);
  if (!o.tokenizer.empty()) {
    io::Tokenizer::load(o.tokenizer);  // UserError naming it if it is not a tokenizer
    return io::copy_tokenizer(o.tokenizer, o.out_dir);
  }
  const std::string path = (fs::path(o.out_dir) / "tokenizer.model").string();
  const TokenizerSettings& t = o.config.tokenizer;
  const TokenizerTrainingReport report = train_tokenizer(o.data, o.config.data.format, t, o.config.seed, path);
  out << "tokenizer: trained " << t.model_type << " with " << t.vocab_size << " pieces on " << report.lines
      << " lines";
  if (report.split_lines > 0) out << " (" << report.split_lines << " over-long lines split)";
  out << " -> " << path << "\n";
  return path;
}

// On ranks other than 0, after rank 0 has prepared it: the tokenizer rank 0 wrote into --out.
std::string shared_tokenizer(const PretrainOptions& o, const dist::Group& group) {
  const std::string path = io::Tokenizer::find_in(o.out_dir);
  if (path.empty()) {
    throw UserError(o.out_dir + ": rank " + std::to_string(group.rank()) + " cannot see the tokenizer rank 0 wrote; the output directory " +
                    "must be on storage every rank shares (see docs/SCALING.md)");
  }
  return path;
}

void write_model(const Model& model, const std::string& directory) {
  ModelWeights weights = model.weights;  // shares storage; tensor_slots needs a mutable table
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const TensorSlot& slot : tensor_slots(model.config, weights)) tensors.emplace_back(slot.name, slot.tensor->detach());
  io::save_checkpoint(directory, tensors);
  io::write_json_file((fs::path(directory) / "config.json").string(), io::model_config_to_json(model.config));
}

// Passkey and recall items scored in softmax attention at each evaluation (config probes.*).
struct ProbeMonitor {
  eval::ProbeSettings settings;
  std::vector<std::pair<std::string, std::vector<eval::ProbeItem>>> kinds;  // log key, items

  // {"passkey_accuracy": mean over the distances, "passkey_accuracy_d64": ..., ...}
  nlohmann::json accuracies(const Model& model) const {
    const eval::Scorer scorer(model, attention::Mode::Softmax, 0);
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, items] : kinds) {
      double sum = 0;
      for (const eval::ProbePoint& point : eval::score_probe(scorer, items, settings)) {
        out[key + "_d" + std::to_string(point.distance)] = point.accuracy;
        sum += point.accuracy;
      }
      out[key] = sum / static_cast<double>(settings.distances.size());
    }
    return out;
  }
};

ProbeMonitor make_probe_monitor(const PretrainConfig& config, const Encoder& encode, int64_t bos) {
  ProbeMonitor monitor;
  if (config.probe_items <= 0) return monitor;
  monitor.settings.distances = config.probe_distances;
  monitor.settings.items_per_distance = static_cast<int>(config.probe_items);
  monitor.settings.seed = 99;  // not the seed diagnose and the demo report (1234)
  monitor.kinds = {{"passkey_accuracy", eval::make_probe(eval::ProbeKind::Passkey, encode, bos, monitor.settings)},
                   {"recall_accuracy", eval::make_probe(eval::ProbeKind::AssociativeRecall, encode, bos, monitor.settings)}};
  return monitor;
}

}  // namespace

std::shared_ptr<Model> init_pretrain_model(const ModelConfig& config, uint64_t seed, const std::string& directory) {
  auto model = std::make_shared<Model>();
  model->config = config;
  model->directory = directory;
  model->weights.layers.resize(static_cast<size_t>(config.num_layers));
  torch::manual_seed(seed);
  const double output_scale = 1.0 / std::sqrt(2.0 * static_cast<double>(config.num_layers));
  for (const TensorSlot& slot : tensor_slots(model->config, model->weights)) {
    at::Tensor t = slot.shape.size() == 1 ? torch::ones(slot.shape) : torch::randn(slot.shape) * 0.02;
    if (is_output_projection(slot.name)) t = t * output_scale;
    *slot.tensor = t.requires_grad_(true);
  }
  if (config.tie_word_embeddings) model->weights.lm_head = model->weights.embed_tokens;
  model->inverse_frequencies = rope::inverse_frequencies(config);
  return model;
}

// Starts from another model's weights (a second phase of training on a new data mix): a model
// directory, or the --out of an interrupted pretraining run (its checkpoint's current weights).
// Every tensor must exist there with the same shape.
void copy_initial_weights(const std::string& directory, Model& model) {
  const fs::path checkpoint = fs::path(directory) / kCheckpointFile;
  const bool has_model = fs::exists(fs::path(directory) / "model.safetensors") ||
                         fs::exists(fs::path(directory) / "model.safetensors.index.json");
  if (!has_model && fs::exists(checkpoint)) {
    restore_parameters(all_parameters(model), load_training_checkpoint(checkpoint.string()),
                       checkpoint.string());
    return;
  }
  const auto source = load_model(directory);
  ModelWeights& from = const_cast<Model&>(*source).weights;
  std::vector<TensorSlot> sources = tensor_slots(source->config, from);
  for (const TensorSlot& slot : tensor_slots(model.config, model.weights)) {
    const auto found = std::find_if(sources.begin(), sources.end(), [&](const TensorSlot& s) { return s.name == slot.name; });
    if (found == sources.end() || !found->tensor->defined()) {
      throw SettingError("init", " " + directory + ": no tensor " + slot.name + " (the model's shape differs from the config's)");
    }
    if (found->tensor->sizes() != at::IntArrayRef(slot.shape)) {
      std::ostringstream message;
      message << " " << directory << ": tensor " << slot.name << " has shape " << found->tensor->sizes()
              << ", the config needs " << at::IntArrayRef(slot.shape);
      throw SettingError("init", message.str());
    }
    torch::NoGradGuard no_grad;
    slot.tensor->copy_(found->tensor->to(torch::kFloat32));
  }
}

int run_pretraining(const PretrainOptions& o, std::ostream& summary, std::ostream& progress_display, bool terminal) {
  const PretrainConfig& config = o.config;
  validate(config);
  if (o.data.empty()) throw SettingError("data", ": give at least one data file");
  std::error_code error;
  fs::create_directories(o.out_dir, error);
  if (error) throw UserError(o.out_dir + ": cannot create directory (" + error.message() + ")");
  const std::string config_path = (fs::path(o.out_dir) / kPretrainConfigFile).string();
  const std::string checkpoint_path = (fs::path(o.out_dir) / kCheckpointFile).string();
  const std::string resolved = to_yaml(config);
  if (o.resume) {
    if (!fs::exists(checkpoint_path)) {
      throw UserError(checkpoint_path + ": no checkpoint to resume from (the run finished, or never saved one)");
    }
    if (read_whole_file(config_path) != resolved) {
      throw SettingError("resume", ": the config and overrides differ from the interrupted run's (" + config_path +
                                     "); resume with the same config and overrides");
    }
  } else {
    if (fs::exists(checkpoint_path)) {
      throw UserError(o.out_dir + " holds an interrupted run (" + kCheckpointFile +
                      "); pass --resume to continue it, or choose another --out");
    }
  }
  dist::Group group(o.dist);  // waits for the other ranks; a no-op for one process
  std::ostream quiet(nullptr);  // ranks other than 0 print and write nothing
  std::ostream& out = group.writes_outputs() ? summary : quiet;
  std::ostream& progress_stream = group.writes_outputs() ? progress_display : quiet;
  if (!o.resume && group.writes_outputs()) write_file_atomically(config_path, resolved);

  // Rank 0 trains (or copies) the tokenizer and tokenises into the cache; the others wait for it,
  // then load both.
  if (!group.writes_outputs()) group.barrier();
  const std::string tokenizer_path = group.writes_outputs() ? prepare_tokenizer(o, out) : shared_tokenizer(o, group);
  const auto tokenizer = io::Tokenizer::load(tokenizer_path);
  const Encoder encode = [&tokenizer](const std::string& text) { return tokenizer->encode(text); };
  const DataSettings& d = config.data;
  const int64_t T = d.sequence_length;
  const std::string cache_dir = d.cache_dir.empty() ? default_cache_dir() : d.cache_dir;
  const TokenisedData tokens = tokenise_with_cache(o.data, d.format, tokenizer_path, T, cache_dir);
  if (group.writes_outputs()) group.barrier();
  DataSplit data = split_held_out(tokens.sequences, d.eval_fraction);
  const int64_t text_sequences = data.train.count();
  data.train = mix_synthetic(data.train, d.synthetic, encode, tokenizer->bos_id(), tokenizer->eos_id(), config.seed);
  out << "data: " << tokens.sequences.count() << " sequences of " << T << " tokens, " << data.held_out.count()
      << " held out, " << data.train.count() - text_sequences << " synthetic added ("
      << (tokens.from_cache ? "read from cache " : "tokenised, cached in ") << tokens.cache_file << ")\n";
  if (data.held_out.count() == 0) out << "note: too few sequences to hold any out: no held-out loss\n";

  const ModelConfig model_config =
      pretrain_model_config(config, tokenizer->vocab_size(), tokenizer->bos_id(), tokenizer->eos_id());
  const auto model = init_pretrain_model(model_config, config.seed, o.out_dir);
  if (!o.init_from.empty()) copy_initial_weights(o.init_from, *model);
  out << "model: " << model_config.parameter_count() << " parameters, " << model_config.num_layers << " layers, hidden "
      << model_config.hidden_size << ", vocabulary " << model_config.vocab_size << "\n";
  const std::vector<NamedParameter> parameters = all_parameters(*model);
  const int64_t per_step = std::max<int64_t>(1, d.tokens_per_step / T);
  const int64_t micro_batch = std::min(d.micro_batch, per_step);
  BatchOrder order(data.train.count(), per_step, config.seed);
  // Each rank takes its block of a step's global batch and of the held-out set.
  const auto my_share = [&](const std::vector<int64_t>& all) { return dist::rank_share(all, group.rank(), group.world_size()); };

  TrainingState state;
  state.seed = config.seed;
  RunContext context{*model, checkpoint_path, (fs::path(o.out_dir) / kTrainingLogFile).string(), {},
                     Progress(progress_stream, terminal), config.checkpoint_interval, config.log_interval,
                     o.test_hooks, 0, parameters};
  context.group = &group;
  AdamW optimiser(parameters);
  std::map<std::string, at::Tensor> best;
  if (o.resume) {
    const LoadedCheckpoint checkpoint = load_training_checkpoint(checkpoint_path);
    state = checkpoint.state;
    restore_parameters(parameters, checkpoint, checkpoint_path);
    optimiser.load_state(checkpoint.tensors, state.optimiser_steps, checkpoint_path);
    best = best_tensors(checkpoint);
    std::istringstream log(read_whole_file(context.log_path));
    for (std::string line; static_cast<int64_t>(context.log_lines.size()) < state.log_lines && std::getline(log, line);) {
      context.log_lines.push_back(line);
    }
  }

  StageTask task;
  task.stage = 1;
  task.total_steps = stage_steps(config.training, d);
  task.settings = config.training;
  task.tokens_per_step = per_step * T;
  task.restore_best = config.keep_best;
  task.train_step = [&](int64_t step) {
    StepResult result;
    const std::vector<int64_t> batch = order.batch(step);
    for_micro_batches(data.train, my_share(batch), static_cast<int64_t>(batch.size()), micro_batch,
                      [&](const at::Tensor& ids, const at::Tensor& mask, double share) {
      result.loss += share * language_model_loss(*model, ids, mask, share, true);
    });
    return result;  // this rank's part: run_stage sums the parts and the gradients across ranks
  };
  const auto held_out_loss = [&] {  // this rank's part of the held-out loss
    at::NoGradGuard no_grad;
    double total = 0;
    for_micro_batches(data.held_out, my_share(all_indices(data.held_out)), data.held_out.count(), micro_batch,
                      [&](const at::Tensor& ids, const at::Tensor& mask, double share) {
      total += share * language_model_loss(*model, ids, mask, share, false);
    });
    return total;
  };
  if (data.held_out.count() > 0) task.evaluate = held_out_loss;
  // Only rank 0 writes the log, so only it scores the probes.
  const ProbeMonitor probes = group.writes_outputs() ? make_probe_monitor(config, encode, tokenizer->bos_id()) : ProbeMonitor{};
  if (config.probe_items > 0 && group.writes_outputs()) task.monitor = [&] { return probes.accuracies(*model); };

  InterruptGuard interrupts;
  if (run_stage(task, optimiser, state, best, context) == StageEnd::Interrupted) {
    progress_stream << "interrupted at step " << state.step << "; checkpoint saved to " << checkpoint_path
                    << "; continue with --resume\n";
    const int signal = InterruptGuard::signal_number();
    return 128 + (signal ? signal : SIGINT);
  }

  // Every rank takes part in the final held-out loss; then rank 0, holding the same model, writes it.
  const double loss = data.held_out.count() > 0 ? group.all_reduce_sum(held_out_loss()) : 0.0;
  if (!group.writes_outputs()) return 0;
  write_model(*model, o.out_dir);
  context.write_log();
  fs::remove(checkpoint_path, error);
  out << o.out_dir << ": pretrained " << state.step << " steps, " << state.tokens << " tokens in "
      << static_cast<int64_t>(state.seconds) << " s\n";
  if (data.held_out.count() > 0) {
    out << "held-out loss " << loss << ", perplexity " << std::exp(loss) << " (" << data.held_out.count()
        << " sequences)\n";
  }
  if (config.probe_items > 0) out << "probe accuracy (softmax, chance 0.25): " << probes.accuracies(*model).dump() << "\n";
  return 0;
}

}  // namespace lincat::train
