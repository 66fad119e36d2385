#include "lincat/train/stage_loop.h"

#include <chrono>
#include <cmath>

#include "lincat/train/interrupt.h"
#include "lincat/train/schedules.h"
#include "lincat/util/compat.h"
#include "lincat/util/atomic_file.h"
#include "lincat/util/error.h"
#include "lincat/util/stopwatch.h"

namespace lincat::train {
namespace {

using nlohmann::json;

std::map<std::string, at::Tensor> snapshot(const AdamW& optimiser) {
  std::map<std::string, at::Tensor> out;
  for (const NamedParameter& p : optimiser.parameters()) out[p.name] = p.tensor.detach().clone();
  return out;
}

void restore(AdamW& optimiser, const std::map<std::string, at::Tensor>& best) {
  at::NoGradGuard no_grad;
  for (const NamedParameter& p : optimiser.parameters()) {
    const auto found = best.find(p.name);
    if (found != best.end()) p.tensor.copy_(found->second);
  }
}

// Evaluates, keeps the best tensors and updates the plateau factor and patience count.
json evaluate(const StageTask& task, AdamW& optimiser, TrainingState& state, std::map<std::string, at::Tensor>& best,
              dist::Group& group) {
  at::NoGradGuard no_grad;
  const double loss = group.all_reduce_sum(task.evaluate());
  if (loss < state.best_eval) {
    state.best_eval = loss;
    state.evals_without_improvement = 0;
    if (task.restore_best) best = snapshot(optimiser);
  } else {
    ++state.evals_without_improvement;
    if (task.settings.optimiser.schedule == LrSchedule::Plateau) state.plateau_factor *= 0.5;
  }
  return {{"eval_loss", loss}, {"best_eval_loss", state.best_eval}};
}

// Sums this step's gradients, loss, loss parts and stop request across ranks (one collective for
// the gradients, one for the numbers). Returns whether any rank asked to stop.
bool reduce_step(dist::Group& group, AdamW& optimiser, StepResult& result) {
  if (!group.distributed()) return false;
  std::vector<at::Tensor> grads;
  for (const NamedParameter& p : optimiser.parameters()) {
    if (!compat::has_grad(p.tensor)) p.tensor.mutable_grad() = at::zeros_like(p.tensor);  // a rank with no data for it
    grads.push_back(p.tensor.grad());
  }
  group.all_reduce_sum(grads);
  std::vector<double> numbers{result.loss, InterruptGuard::requested() ? 1.0 : 0.0};
  for (auto& [key, value] : result.parts.items()) numbers.push_back(value.get<double>());
  group.all_reduce_sum(numbers);
  result.loss = numbers[0];
  size_t i = 2;
  for (auto& [key, value] : result.parts.items()) value = numbers[i++];
  return numbers[1] > 0;
}

}  // namespace

void RunContext::write_log() const {
  if (!writes_outputs()) return;
  std::string text;
  for (const std::string& line : log_lines) text += line + "\n";
  write_file_atomically(log_path, text);
}

void RunContext::checkpoint(const TrainingState& state, const AdamW* optimiser,
                            const std::map<std::string, at::Tensor>& best) {
  if (!writes_outputs()) return;
  TrainingState saved = state;
  saved.log_lines = static_cast<int64_t>(log_lines.size());
  write_log();
  if (checkpoint_tensors.empty()) {
    save_training_checkpoint(checkpoint_path, saved, model, optimiser, best);
  } else {
    save_training_checkpoint(checkpoint_path, saved, checkpoint_tensors, optimiser, best);
  }
}

StageEnd run_stage(const StageTask& task, AdamW& optimiser, TrainingState& state,
                   std::map<std::string, at::Tensor>& best, RunContext& context) {
  const StageSettings& s = task.settings;
  const bool can_evaluate = s.eval_interval > 0 && static_cast<bool>(task.evaluate);
  const auto run_start = std::chrono::steady_clock::now();
  const double seconds_before = state.seconds;
  const int64_t first_step = state.step;
  dist::Group alone;
  dist::Group& group = context.group != nullptr ? *context.group : alone;
  while (state.step < task.total_steps && !state.stage_finished) {
    const int64_t step = state.step;
    const auto step_start = std::chrono::steady_clock::now();
    const double learning_rate = learning_rate_at(s.optimiser, step, task.total_steps, state.plateau_factor);
    if (context.test_hooks.before_step) context.test_hooks.before_step(group.rank(), step + 1);
    optimiser.zero_grad();
    StepResult result = task.train_step(step);
    const bool stop_requested = reduce_step(group, optimiser, result);
    if (!std::isfinite(result.loss)) {
      context.write_log();
      throw UserError("stage " + std::to_string(task.stage) + " step " + std::to_string(step + 1) + ": the loss is " +
                      (std::isnan(result.loss) ? "NaN" : "infinite") +
                      "; stopping. The last good checkpoint is kept in " + context.checkpoint_path +
                      " (lower the learning rate, then --resume)");
    }
    json line = {{"stage", task.stage}, {"step", step + 1}, {"loss", result.loss}, {"learning_rate", learning_rate}};
    if (s.optimiser.clip_norm > 0) line["grad_norm"] = optimiser.clip_grad_norm(s.optimiser.clip_norm);
    optimiser.step(learning_rate, s.optimiser.weight_decay);
    state.optimiser_steps = optimiser.steps();
    state.step = step + 1;
    state.tokens += task.tokens_per_step;
    state.seconds = seconds_before + seconds_since(run_start);
    line["tokens"] = state.tokens;
    line["seconds"] = state.seconds;
    for (auto& [key, value] : result.parts.items()) line[key] = value;
    for (auto& [key, value] : result.fields.items()) line[key] = value;
    const bool evaluation_step = s.eval_interval > 0 && (state.step % s.eval_interval == 0 || state.step == task.total_steps);
    if (evaluation_step && task.monitor) {
      at::NoGradGuard no_grad;
      const json numbers = task.monitor();  // named: items() of a temporary would dangle
      for (auto& [key, value] : numbers.items()) line[key] = value;
    }
    if (can_evaluate && evaluation_step) {
      const json metrics = evaluate(task, optimiser, state, best, group);
      for (auto& [key, value] : metrics.items()) line[key] = value;
      if (s.early_stopping_patience > 0 && state.evals_without_improvement >= s.early_stopping_patience) {
        line["early_stop"] = true;
        state.stage_finished = true;
      }
    }
    if (state.step % context.log_interval == 0 || state.step == task.total_steps || evaluation_step) {
      context.log_lines.push_back(line.dump());
    }
    const double step_seconds = seconds_since(step_start);
    const double run_seconds = seconds_since(run_start);
    const double per_step = run_seconds / static_cast<double>(state.step - first_step);
    context.progress.update(task.stage, state.step, task.total_steps, result.loss,
                            static_cast<double>(task.tokens_per_step) / std::max(step_seconds, 1e-9),
                            per_step * static_cast<double>(task.total_steps - state.step));
    ++context.steps_this_run;
    const int64_t stop_after = context.test_hooks.stop_after_steps;
    const bool stop_hook = stop_after > 0 && context.steps_this_run >= stop_after;
    // Several processes stop on the request they summed at this step, so all stop together.
    const bool interrupted = group.distributed() ? stop_requested : InterruptGuard::requested();
    if (interrupted || stop_hook) {
      context.progress.finish_stage();
      context.checkpoint(state, &optimiser, best);
      return StageEnd::Interrupted;
    }
    if (state.step % context.checkpoint_interval == 0) context.checkpoint(state, &optimiser, best);
  }
  context.progress.finish_stage();
  if (!best.empty()) restore(optimiser, best);
  state.stage_finished = true;
  return StageEnd::Finished;
}

}  // namespace lincat::train
