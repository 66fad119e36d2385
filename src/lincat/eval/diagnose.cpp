#include "lincat/eval/diagnose.h"

#include <algorithm>
#include <cstdio>

#include "lincat/eval/text_encoder.h"
#include "lincat/util/error.h"

namespace lincat::eval {
namespace {

const std::vector<attention::Mode>& diagnosed_modes() {
  using attention::Mode;
  static const std::vector<Mode> modes = {Mode::Hybrid, Mode::Window, Mode::Linear, Mode::Sinks, Mode::None};
  return modes;
}

ModeScores score_mode(const Model& model, attention::Mode mode, const std::string& name, const io::Tokenizer& tokenizer,
                      const DiagnoseSettings& settings, const std::map<ProbeKind, std::vector<ProbeItem>>& probes,
                      const ProbeSettings& probe_settings, int64_t window) {
  ModeScores scores;
  scores.name = name;
  const Encoder encode = bos_encoder(tokenizer, model, settings.add_bos);
  const Scorer task_scorer(model, mode, model.config.max_position_embeddings);
  for (const Task& task : settings.tasks) scores.tasks.push_back(evaluate_task(task_scorer, encode, task, settings.limit));
  scores.task_average = task_average(scores.tasks);
  const Scorer probe_scorer(model, mode, 0);  // probes run past max_position_embeddings on purpose
  double beyond = 0;
  int counted = 0;
  for (const auto& [kind, items] : probes) {
    std::vector<ProbePoint> points = score_probe(probe_scorer, items, probe_settings);
    for (const ProbePoint& p : points) {
      if (p.distance > window) {
        beyond += p.accuracy;
        ++counted;
      }
    }
    scores.probes[probe_name(kind)] = std::move(points);
  }
  scores.beyond_window_probe_accuracy = counted > 0 ? beyond / counted : 0;
  return scores;
}

const ModeScores* find_mode(const std::vector<ModeScores>& modes, const std::string& name) {
  for (const ModeScores& m : modes) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

std::string percent(double fraction) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f%%", 100 * fraction);
  return buffer;
}

}  // namespace

std::string verdict_kind_name(VerdictKind kind) {
  switch (kind) {
    case VerdictKind::Collapsed: return "collapsed";
    case VerdictKind::LinearOnly: return "linear_only";
    case VerdictKind::LinearUsed: break;
  }
  return "used";
}

Verdict judge_usage(const ComponentUsage& usage, const std::vector<ModeScores>& modes) {
  std::string scores;
  for (const char* name : {"hybrid", "window", "linear", "none"}) {
    if (const ModeScores* m = find_mode(modes, name)) {
      scores += std::string(scores.empty() ? "" : ", ") + name + " " + percent(m->task_average) + " tasks / " +
                percent(m->beyond_window_probe_accuracy) + " probes beyond w";
    }
  }
  const std::string numbers = "linear share " + percent(usage.mean_linear_share) + " of the normaliser and " +
                              percent(usage.mean_linear_output_share) + " of the output beyond the window (" +
                              scores + ")";
  Verdict verdict;
  if (usage.mean_linear_share < kCollapseShare) {
    verdict.kind = VerdictKind::Collapsed;
    verdict.line = "The linear branch is NOT used (component collapse): " + numbers + ".";
  } else if (usage.mean_linear_share > 1 - kCollapseShare) {
    verdict.kind = VerdictKind::LinearOnly;
    verdict.line = "The window branch is barely used; the model behaves as linear-only: " + numbers + ".";
  } else {
    verdict.line = "The linear branch is used: " + numbers + ".";
  }
  return verdict;
}

DiagnoseReport diagnose(const Model& model, const std::string& model_name, const Model& base,
                        const std::string& base_name, const io::Tokenizer& tokenizer,
                        const DiagnoseSettings& settings) {
  if (!model.config.hybrid) throw UserError(model_name + " is not a converted model: diagnose needs one (convert-init)");
  if (base.config.vocab_size != model.config.vocab_size) {
    throw SettingError("base", " " + base_name + " has a vocabulary of " + std::to_string(base.config.vocab_size) +
                    " tokens, the model " + std::to_string(model.config.vocab_size));
  }
  DiagnoseReport report;
  report.model = model_name;
  report.base = base_name;
  report.window = model.config.hybrid->window;
  report.probe_settings.distances = window_distances(report.window);
  if (settings.max_probe_distance > 0) {
    auto& d = report.probe_settings.distances;
    d.erase(std::remove_if(d.begin(), d.end(), [&](int64_t x) { return x > settings.max_probe_distance; }), d.end());
    if (d.empty()) throw UserError("no probe distance is at most " + std::to_string(settings.max_probe_distance) + " tokens");
  }
  report.probe_settings.items_per_distance = settings.probe_items;
  report.probe_settings.seed = settings.seed;

  const Encoder plain = [&tokenizer](const std::string& text) { return tokenizer.encode(text); };
  const int64_t bos = bos_token(tokenizer, model);
  std::map<ProbeKind, std::vector<ProbeItem>> probes;
  for (ProbeKind kind : {ProbeKind::Passkey, ProbeKind::AssociativeRecall}) {
    probes[kind] = make_probe(kind, plain, bos, report.probe_settings);
  }

  report.modes.push_back(score_mode(base, attention::Mode::Softmax, "base", tokenizer, settings, probes,
                                    report.probe_settings, report.window));
  const double base_average = report.modes[0].task_average;
  for (attention::Mode mode : diagnosed_modes()) {
    ModeScores scores = score_mode(model, mode, attention::mode_name(mode), tokenizer, settings, probes,
                                   report.probe_settings, report.window);
    if (base_average > 0) scores.recovered = 100 * scores.task_average / base_average;
    report.modes.push_back(std::move(scores));
  }

  // Usage on passkey contexts four windows long: every layer sees positions far beyond w.
  ProbeSettings long_inputs = report.probe_settings;
  long_inputs.distances = {4 * report.window};
  long_inputs.items_per_distance = 2;
  std::vector<std::vector<int64_t>> sequences;
  for (const ProbeItem& item : make_probe(ProbeKind::Passkey, plain, bos, long_inputs)) {
    sequences.push_back(item.context);
  }
  report.usage = measure_component_usage(model, sequences);

  const Encoder encode = bos_encoder(tokenizer, model, settings.add_bos);
  for (const Task& task : settings.tasks) {
    const size_t count = settings.limit > 0 ? std::min(task.items.size(), static_cast<size_t>(settings.limit))
                                            : task.items.size();
    for (size_t i = 0; i < count; ++i) {
      bool within = true;
      for (const TextRequest& r : task.items[i].requests) {
        within = within && static_cast<int64_t>(encode(r.context + r.continuation).size()) <= report.window;
      }
      ++report.task_items;
      report.task_items_within_window += within ? 1 : 0;
    }
  }
  report.verdict = judge_usage(report.usage, report.modes);
  return report;
}

}  // namespace lincat::eval
