#include "lincat/train/convert.h"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "lincat/dist/process_group.h"
#include "lincat/dist/shard.h"
#include "lincat/io/tokenizer.h"
#include "lincat/model/converted_model.h"
#include "lincat/train/attention_transfer.h"
#include "lincat/train/batches.h"
#include "lincat/train/finetune_loss.h"
#include "lincat/train/interrupt.h"
#include "lincat/train/lora.h"
#include "lincat/train/stage_loop.h"
#include "lincat/train/synthetic.h"
#include "lincat/train/token_cache.h"
#include "lincat/util/atomic_file.h"
#include "lincat/util/error.h"
#include "lincat/util/memory.h"
#include "lincat/util/out_of_memory.h"

namespace lincat::train {
namespace {

namespace fs = std::filesystem;

// One stage of a conversion: what it trains, its loss and its schedule. run_conversion runs a
// list of them in order with one loop; a new stage (calibration, a third stage) is a new value.
struct ConversionStage {
  StageTask task;                                         // its number, steps, settings (schedule) and loss
  std::function<void()> prepare;                          // before it starts (stage 2: adds LoRA); may be empty
  std::function<bool(const std::string& tensor)> trains;  // which of trainable_tensors() it trains
};

bool is_lora(const std::string& tensor) { return tensor.find(".lora_") != std::string::npos; }

// What every stage's loss reads: the student, the teacher, the data and this rank's share of it.
struct StageInputs {
  const Recipe& recipe;
  Model& student;
  const Model& teacher;
  const DataSplit& data;
  BatchOrder& order;
  int64_t micro_batch = 1;         // sequences per forward pass in stage 1
  int64_t stage2_micro_batch = 1;  // and in stage 2 (stage2.micro_batch_tokens)
  dist::Group& group;
  // Stage 1 layer parallel: each rank takes the whole batch and its block of layers.
  bool layer_parallel = false;
  dist::Slice layers;

  // Data parallel: each rank takes its block of a step's global batch (and of the held-out set).
  std::vector<int64_t> my_share(const std::vector<int64_t>& all) const {
    return dist::rank_share(all, group.rank(), group.world_size());
  }
};

// A stage numbered `number` with the schedule `settings`, before its loss is set.
ConversionStage new_stage(int number, const StageSettings& settings, const DataSettings& data) {
  ConversionStage stage;
  stage.task.stage = number;
  stage.task.total_steps = stage_steps(settings, data);
  stage.task.settings = settings;
  return stage;
}

// Stage 1, attention transfer: feature maps and mixing logits learn to match the teacher's attention.
ConversionStage attention_transfer_stage(const StageInputs& in) {
  ConversionStage stage = new_stage(1, in.recipe.stage1, in.recipe.data);
  stage.trains = [](const std::string& tensor) { return !is_lora(tensor); };
  const auto losses = [&in](const at::Tensor& ids, double share, bool backward) {
    return transfer_losses(in.student, ids, in.recipe.stage1.mode, in.recipe.stage1, share, backward, in.layers.begin,
                           in.layers.end);
  };
  stage.task.train_step = [&in, losses](int64_t step) {
    StepResult result;
    TransferLosses sum;
    const std::vector<int64_t> batch = in.order.batch(step);
    const auto global = static_cast<int64_t>(batch.size());
    for_micro_batches(in.data.train, in.layer_parallel ? batch : in.my_share(batch), global, in.micro_batch,
                      [&](const at::Tensor& ids, const at::Tensor&, double share) {
      const TransferLosses l = losses(ids, share, true);
      sum.output_mse += share * l.output_mse;
      sum.attention_ce += share * l.attention_ce;
      sum.total += share * l.total;
    });
    result.loss = sum.total;
    result.parts = {{"output_mse", sum.output_mse}, {"attention_ce", sum.attention_ce}};
    return result;
  };
  if (in.data.held_out.count() > 0) {
    stage.task.evaluate = [&in, losses] {
      double total = 0;
      const std::vector<int64_t> held = all_indices(in.data.held_out);
      for_micro_batches(in.data.held_out, in.layer_parallel ? held : in.my_share(held), in.data.held_out.count(),
                        in.micro_batch, [&](const at::Tensor& ids, const at::Tensor&, double share) {
        total += share * losses(ids, share, false).total;
      });
      return total;
    };
  }
  return stage;
}

// Stage 2, fine-tuning: LoRA adapters (and, if the recipe says, the feature maps) learn next-token
// prediction, with an optional KL to the teacher and Scheduled Sliding-window Dropout.
ConversionStage finetune_stage(const StageInputs& in) {
  const Recipe& recipe = in.recipe;
  ConversionStage stage = new_stage(2, recipe.stage2, recipe.data);
  stage.prepare = [&in] {
    torch::manual_seed(in.recipe.seed + 2);  // LoRA's A, the same in every run of this recipe
    add_lora(in.student, in.recipe.stage2.lora);
  };
  const bool train_feature_maps = recipe.stage2.train_feature_maps;
  stage.trains = [train_feature_maps](const std::string& tensor) { return is_lora(tensor) || train_feature_maps; };
  const int64_t total_steps = stage.task.total_steps;
  stage.task.train_step = [&in, total_steps](int64_t step) {
    const Recipe& recipe = in.recipe;
    std::mt19937_64 rng = step_generator(recipe.seed, 2, step);
    torch::manual_seed(rng());  // LoRA dropout
    const double fraction = static_cast<double>(step) / static_cast<double>(total_steps);
    attention::HybridConfig hybrid = recipe.attention;
    DropPlan drops;
    StepResult result;
    if (recipe.ssd.enabled) {
      const double p = phase_value(recipe.ssd.drop_schedule, fraction);
      if (!recipe.ssd.window_schedule.empty()) hybrid.window = static_cast<int>(phase_value(recipe.ssd.window_schedule, fraction));
      drops = sample_drops(recipe.ssd.granularity, p, in.student.config.num_layers, in.student.config.num_heads, rng);
      result.fields = {{"ssd_drop_probability", p}, {"ssd_drop_rate", drop_rate(drops)}, {"window", hybrid.window}};
    }
    FinetuneLosses sum;
    const std::vector<int64_t> batch = in.order.batch(step);
    for_micro_batches(in.data.train, in.my_share(batch), static_cast<int64_t>(batch.size()), in.stage2_micro_batch,
                      [&](const at::Tensor& ids, const at::Tensor& mask, double share) {
      const FinetuneLosses l = finetune_losses(in.student, &in.teacher, ids, mask, recipe.stage2.mode, hybrid, drops,
                                               recipe.stage2.kl_weight, share, true,
                                               {recipe.stage2.loss_chunk_tokens, recipe.stage2.gradient_checkpointing});
      sum.cross_entropy += share * l.cross_entropy;
      sum.kl += share * l.kl;
      sum.total += share * l.total;
    });
    result.loss = sum.total;
    result.parts["cross_entropy"] = sum.cross_entropy;
    if (recipe.stage2.kl_weight > 0) result.parts["kl"] = sum.kl;
    return result;
  };
  if (in.data.held_out.count() > 0) {
    stage.task.evaluate = [&in] {  // never drops: the model as it will run
      double total = 0;
      for_micro_batches(in.data.held_out, in.my_share(all_indices(in.data.held_out)), in.data.held_out.count(),
                        in.stage2_micro_batch, [&](const at::Tensor& ids, const at::Tensor& mask, double share) {
        total += share * finetune_losses(in.student, nullptr, ids, mask, in.recipe.stage2.mode, in.recipe.attention, {},
                                         0, share, false, {in.recipe.stage2.loss_chunk_tokens, false}).cross_entropy;
      });
      return total;
    };
  }
  return stage;
}

void check_fresh_output(const ConvertOptions& o, const std::string& checkpoint) {
  if (!o.resume && fs::exists(checkpoint)) {
    throw UserError(o.out_dir + " holds an interrupted conversion (" + kCheckpointFile +
                    "); pass --resume to continue it, or choose another --out");
  }
}

}  // namespace

int run_conversion(const ConvertOptions& o, std::ostream& summary, std::ostream& progress_display, bool terminal) {
  Recipe recipe = o.recipe;  // attention.feature_dim follows the model's head_dim once it is loaded
  validate(recipe);
  std::error_code error;
  fs::create_directories(o.out_dir, error);
  if (error) throw UserError(o.out_dir + ": cannot create directory (" + error.message() + ")");
  const std::string recipe_path = (fs::path(o.out_dir) / kRecipeFile).string();
  const std::string checkpoint_path = (fs::path(o.out_dir) / kCheckpointFile).string();
  check_fresh_output(o, checkpoint_path);
  const std::string resolved = to_yaml(recipe);
  if (o.resume) {
    if (!fs::exists(checkpoint_path)) {
      throw UserError(checkpoint_path + ": no checkpoint to resume from (the run finished, or never saved one)");
    }
    if (read_whole_file(recipe_path) != resolved) {
      throw SettingError("resume", ": the recipe and overrides differ from the interrupted run's (" + recipe_path +
                                     "); resume with the same recipe, overrides and step counts");
    }
  }
  dist::Group group(o.dist);  // waits for the other ranks; a no-op for one process
  std::ostream quiet(nullptr);  // ranks other than 0 print and write nothing
  std::ostream& out = group.writes_outputs() ? summary : quiet;
  std::ostream& progress_stream = group.writes_outputs() ? progress_display : quiet;
  if (!o.resume && group.writes_outputs()) write_file_atomically(recipe_path, resolved);

  // Peak resident memory per phase (CPU runs), printed at the end beside what `lincat plan` predicts.
  std::vector<std::pair<std::string, uint64_t>> peaks;
  reset_peak_resident();
  const std::string advice = "`lincat plan " + o.model_dir + " --recipe " + recipe_path +
                             "` shows what each phase needs and the settings that fit";
  std::shared_ptr<const Model> teacher;
  try {
    teacher = load_model(o.model_dir, o.load);
  } catch (const std::exception& e) {
    if (!is_out_of_memory(e)) throw;
    throw_out_of_memory("loading " + o.model_dir, e, advice);
  }
  peaks.emplace_back("load", peak_resident_bytes());
  if (recipe.square_feature_map) recipe.attention.feature_dim = static_cast<int>(teacher->config.head_dim);
  // No tokenizer is needed when every --data record is pre-tokenised (input_ids).
  const std::string tokenizer =
      o.tokenizer.empty() ? io::Tokenizer::find_in(o.model_dir) : io::Tokenizer::resolve(o.tokenizer);
  if (!tokenizer.empty() && !fs::exists(tokenizer)) throw SettingError("tokenizer", " " + tokenizer + ": no such tokenizer file");
  const std::string cache_dir = recipe.data.cache_dir.empty() ? default_cache_dir() : recipe.data.cache_dir;
  if (!group.writes_outputs()) group.barrier();  // rank 0 tokenises and caches first
  const TokenisedData tokens =
      tokenise_with_cache(o.data, recipe.data.format, tokenizer, recipe.data.sequence_length, cache_dir);
  if (group.writes_outputs()) group.barrier();
  DataSplit data = split_held_out(tokens.sequences, recipe.data.eval_fraction);
  if (recipe.data.synthetic.share > 0) {
    if (tokenizer.empty()) throw SettingError("tokenizer", ": none given and the model has none, but data.synthetic needs one");
    const auto tokenizer_model = io::Tokenizer::load(tokenizer);
    const Encoder encode = [&](const std::string& text) { return tokenizer_model->encode(text); };
    data.train = mix_synthetic(data.train, recipe.data.synthetic, encode, tokenizer_model->bos_id(),
                               tokenizer_model->eos_id(), recipe.seed);
  }
  const int64_t T = recipe.data.sequence_length;
  out << "data: " << tokens.sequences.count() << " sequences of " << T << " tokens, " << data.held_out.count()
      << " held out (" << (tokens.from_cache ? "read from cache " : "tokenised, cached in ") << tokens.cache_file
      << ")\n";
  if (data.held_out.count() == 0 && (recipe.stage1.eval_interval > 0 || recipe.stage2.eval_interval > 0)) {
    out << "note: too few sequences to hold any out: no evaluation, keep-best, early stopping or plateau schedule\n";
  }

  const auto student = convert_init(*teacher, recipe.attention, recipe.default_mode);
  const int64_t per_step = std::max<int64_t>(1, recipe.data.tokens_per_step / T);
  out << "steps: " << per_step << " sequences each; per forward pass stage 1 takes " << micro_batch_sequences(recipe, 1)
      << ", stage 2 " << micro_batch_sequences(recipe, 2) << " (gradients accumulated in between)\n";
  BatchOrder order(data.train.count(), per_step, recipe.seed);
  const bool layer_parallel = o.layer_parallel && group.distributed();
  const StageInputs inputs{recipe, *student, *teacher, data, order,
                           micro_batch_sequences(recipe, 1), micro_batch_sequences(recipe, 2), group, layer_parallel,
                           layer_parallel ? dist::rank_slice(student->config.num_layers, group.rank(), group.world_size())
                                          : dist::Slice{0, student->config.num_layers}};
  std::vector<ConversionStage> stages = {attention_transfer_stage(inputs), finetune_stage(inputs)};

  TrainingState state;
  state.seed = recipe.seed;
  LoadedCheckpoint checkpoint;
  RunContext context{*student, checkpoint_path, (fs::path(o.out_dir) / kTrainingLogFile).string(), {},
                     Progress(progress_stream, terminal), recipe.checkpoint_interval, recipe.log_interval,
                     o.test_hooks, 0, {}};
  context.group = &group;
  if (o.resume) {
    checkpoint = load_training_checkpoint(checkpoint_path);
    state = checkpoint.state;
    std::istringstream log(read_whole_file(context.log_path));
    for (std::string line; static_cast<int64_t>(context.log_lines.size()) < state.log_lines && std::getline(log, line);) {
      context.log_lines.push_back(line);
    }
  }
  InterruptGuard interrupts;

  // The stage loop: each stage from where the run (or the interrupted one) left off.
  for (ConversionStage& stage : stages) {
    StageTask& task = stage.task;
    if (state.stage > task.stage) continue;  // finished before an interruption
    if (task.total_steps > 0) {
      if (stage.prepare) stage.prepare();
      std::vector<NamedParameter> parameters;
      for (NamedParameter& p : trainable_tensors(*student)) {
        const bool trains = stage.trains(p.name);
        p.tensor.requires_grad_(trains);
        if (trains) parameters.push_back(p);
      }
      AdamW optimiser(parameters);
      std::map<std::string, at::Tensor> best;
      if (o.resume && checkpoint.state.stage == task.stage) {
        restore_trainable(*student, checkpoint, checkpoint_path);
        optimiser.load_state(checkpoint.tensors, state.optimiser_steps, checkpoint_path);
        best = best_tensors(checkpoint);
      }
      task.tokens_per_step = per_step * T;
      reset_peak_resident();
      StageEnd end = StageEnd::Finished;
      try {
        end = run_stage(task, optimiser, state, best, context);
      } catch (const std::exception& e) {
        if (!is_out_of_memory(e)) throw;
        const bool saved = fs::exists(checkpoint_path);
        throw_out_of_memory("stage " + std::to_string(task.stage) + " step " + std::to_string(state.step + 1), e,
                            (saved ? "the checkpoint saved so far is kept (" + checkpoint_path + "); " : std::string()) + advice);
      }
      peaks.emplace_back("stage " + std::to_string(task.stage), peak_resident_bytes());
      if (end == StageEnd::Interrupted) {
        progress_stream << "interrupted at stage " << state.stage << " step " << state.step
                        << "; checkpoint saved to " << checkpoint_path << "; continue with --resume\n";
        const int signal = InterruptGuard::signal_number();
        return 128 + (signal ? signal : SIGINT);
      }
    }
    TrainingState next;  // the next stage starts at its step 0; the training time carries on
    next.stage = task.stage + 1;
    next.seed = recipe.seed;
    next.seconds = state.seconds;
    state = next;
  }

  if (!group.writes_outputs()) return 0;  // rank 0 holds the same model and writes it
  for (NamedParameter& p : trainable_tensors(*student)) p.tensor.requires_grad_(false);  // saved as plain weights
  reset_peak_resident();
  save_model(*student, o.out_dir);
  peaks.emplace_back("write", peak_resident_bytes());
  // A tokenizer given by --tokenizer goes with the model, so that text prompts work on it.
  if (!tokenizer.empty() && io::Tokenizer::find_in(o.out_dir).empty()) io::copy_tokenizer(tokenizer, o.out_dir);
  context.write_log();
  fs::remove(checkpoint_path, error);
  if (student->device.is_cpu() && peaks.front().second > 0) {
    out << "peak resident memory:";
    for (const auto& [phase, bytes] : peaks) out << " " << phase << " " << gib_text(bytes) << ";";
    out << " (lincat plan predicts each)\n";
  }
  out << o.out_dir << ": converted with recipe " << recipe.name << " (stage 1 in " << attention::mode_name(recipe.stage1.mode)
      << " mode, stage 2 in " << attention::mode_name(recipe.stage2.mode) << " mode, f = " << recipe.attention.feature_dim
      << ", runs in " << attention::mode_name(recipe.default_mode) << " mode"
      << (student->config.lora ? ", LoRA adapters unmerged: lincat merge folds them in" : "") << ")\n";
  return 0;
}

}  // namespace lincat::train
