#include "lincat/eval/diagnose.h"

#include <algorithm>
#include <cstdio>

#include "lincat/eval/text_encoder.h"
#include "lincat/util/error.h"

namespace lincat::eval {
namespace {

const std::vector<attention::Mode>& diagnosed_modes() {
  using attention::Mode;
  static const std::vector<Mode> modes = {Mode::Hybrid, Mode::Window, Mode::Linear, Mode::Sinks, Mode::None,
                                          Mode::Overlap};
  return modes;
}

// The progress of one pass ("piqa@hybrid"), or none.
ItemProgress progress_of(const DiagnoseSettings& settings, const std::string& label) {
  return settings.progress ? settings.progress(label) : ItemProgress{};
}

ModeScores score_mode(const Model& model, attention::Mode mode, const std::string& name, const io::Tokenizer& tokenizer,
                      const DiagnoseSettings& settings, const std::map<ProbeKind, std::vector<ProbeItem>>& probes,
                      const ProbeSettings& probe_settings, int64_t window) {
  ModeScores scores;
  scores.name = name;
  const Encoder encode = bos_encoder(tokenizer, model, settings.add_bos);
  const Scorer task_scorer(model, mode, model.config.max_position_embeddings);
  for (const Task& task : settings.tasks) {
    scores.tasks.push_back(evaluate_task(task_scorer, encode, task, settings.limit,
                                         progress_of(settings, task.name + "@" + name)));
  }
  scores.task_average = task_average(scores.tasks);
  if (settings.perplexity) scores.perplexity = text_perplexity(model, mode, *settings.perplexity);
  const Scorer probe_scorer(model, mode, 0);  // probes run past max_position_embeddings on purpose
  double beyond = 0;
  int counted = 0;
  for (const auto& [kind, items] : probes) {
    std::vector<ProbePoint> points =
        score_probe(probe_scorer, items, probe_settings, progress_of(settings, probe_name(kind) + "@" + name));
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

// The probe distances and sizes for a model of window `window`.
ProbeSettings probe_settings_for(int64_t window, const DiagnoseSettings& settings) {
  ProbeSettings probe_settings;
  probe_settings.distances = window_distances(window);
  if (settings.max_probe_distance > 0) {
    auto& d = probe_settings.distances;
    d.erase(std::remove_if(d.begin(), d.end(), [&](int64_t x) { return x > settings.max_probe_distance; }), d.end());
    if (d.empty()) throw UserError("no probe distance is at most " + std::to_string(settings.max_probe_distance) + " tokens");
  }
  probe_settings.items_per_distance = settings.probe_items;
  probe_settings.seed = settings.seed;
  return probe_settings;
}

std::map<ProbeKind, std::vector<ProbeItem>> make_probes(const Encoder& plain, int64_t bos, const ProbeSettings& settings) {
  std::map<ProbeKind, std::vector<ProbeItem>> probes;
  for (ProbeKind kind : {ProbeKind::Passkey, ProbeKind::AssociativeRecall}) probes[kind] = make_probe(kind, plain, bos, settings);
  return probes;
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

std::vector<std::vector<int64_t>> text_sequences(const std::vector<int64_t>& tokens, int64_t bos, int64_t length,
                                                 int64_t count, const std::string& source) {
  const int64_t body = bos >= 0 ? length - 1 : length;  // text tokens per sequence
  if (body < 1 || static_cast<int64_t>(tokens.size()) < body * count) {
    throw UserError(source + ": " + std::to_string(tokens.size()) + " tokens, " + std::to_string(count) +
                    " sequences of " + std::to_string(length) + " need " + std::to_string(std::max<int64_t>(body, 1) * count));
  }
  std::vector<std::vector<int64_t>> sequences;
  for (int64_t s = 0; s < count; ++s) {
    std::vector<int64_t> sequence;
    if (bos >= 0) sequence.push_back(bos);
    sequence.insert(sequence.end(), tokens.begin() + s * body, tokens.begin() + (s + 1) * body);
    sequences.push_back(std::move(sequence));
  }
  return sequences;
}

const std::vector<std::pair<std::string, std::string>>& paired_mode_comparisons() {
  static const std::vector<std::pair<std::string, std::string>> pairs = {
      {"hybrid", "window"}, {"linear", "none"}, {"hybrid", "base"}};
  return pairs;
}

std::vector<PairedDifference> compare_paired(const ModeScores& a, const ModeScores& b, int64_t window, int64_t reach,
                                             const std::string& a_name, const std::string& b_name) {
  std::vector<PairedDifference> out;
  for (size_t t = 0; t < a.tasks.size() && t < b.tasks.size(); ++t) {
    out.push_back(paired_difference(a.tasks[t].task, a_name, main_metric_correct(a.tasks[t]), b_name,
                                    main_metric_correct(b.tasks[t])));
  }
  if (a.perplexity && b.perplexity && a.perplexity->bytes > 0) {
    std::vector<double> a_nats, b_nats, bytes;
    for (const PerplexityWindow& w : a.perplexity->windows) {
      a_nats.push_back(w.nats);
      bytes.push_back(w.bytes);
    }
    for (const PerplexityWindow& w : b.perplexity->windows) b_nats.push_back(w.nats);
    out.push_back(paired_bits_per_byte("bits per byte", a_name, a_nats, b_name, b_nats, bytes));
  }
  for (const auto& [probe, points] : a.probes) {
    const std::vector<ProbePoint>& other = b.probes.at(probe);
    for (const auto& [label, from] : {std::pair<std::string, int64_t>{"d > w", window}, {"d > L(w-1)", reach}}) {
      std::vector<bool> x, y;
      for (size_t i = 0; i < points.size() && i < other.size(); ++i) {
        if (points[i].distance <= from) continue;
        x.insert(x.end(), points[i].correct.begin(), points[i].correct.end());
        y.insert(y.end(), other[i].correct.begin(), other[i].correct.end());
      }
      if (!x.empty()) out.push_back(paired_difference(probe + " " + label, a_name, x, b_name, y));
    }
  }
  return out;
}

ModeScores score_base(const Model& base, const io::Tokenizer& tokenizer, const DiagnoseSettings& settings, int64_t window) {
  const ProbeSettings probe_settings = probe_settings_for(window, settings);
  const Encoder plain = [&tokenizer](const std::string& text) { return tokenizer.encode(text); };
  return score_mode(base, attention::Mode::Softmax, "base", tokenizer, settings,
                    make_probes(plain, bos_token(tokenizer, base), probe_settings), probe_settings, window);
}

Verdict judge_usage(const ComponentUsage& usage, const std::vector<ModeScores>& modes) {
  std::string scores;
  for (const char* name : {"hybrid", "window", "linear", "none"}) {
    if (const ModeScores* m = find_mode(modes, name)) {
      scores += std::string(scores.empty() ? "" : ", ") + name + " " + percent(m->task_average) + " tasks / " +
                percent(m->beyond_window_probe_accuracy) + " probes beyond w";
    }
  }
  const auto with_interval = [&usage](double mean, const Interval& i) {
    return percent(mean) + (usage.layer_linear_share.empty() ? "" : " [95% " + percent(i.low) + ", " + percent(i.high) + "]");
  };
  std::string bypassed;
  const std::vector<std::string> layers = layer_usage_verdicts(usage);
  for (size_t l = 0; l < layers.size(); ++l) {
    if (layers[l] == "bypassed") bypassed += (bypassed.empty() ? "" : ", ") + std::to_string(l);
  }
  const std::string numbers =
      "linear share " + with_interval(usage.mean_linear_share, usage.model_linear_share) + " of the normaliser and " +
      with_interval(usage.mean_linear_output_share, usage.model_linear_output_share) +
      " of the output beyond the window in " + attention::mode_name(usage.mode) + " mode" +
      (bypassed.empty() ? "" : "; layers bypassed (upper bound below 5%): " + bypassed) + " (" + scores + ")";
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
  report.default_mode = model.config.default_mode;
  report.add_bos = settings.add_bos;
  report.bos_added = adds_bos(settings.add_bos, tokenizer, model);
  if (settings.perplexity) {
    report.perplexity_source = settings.perplexity->source;
    report.perplexity_window = settings.perplexity->window;
    report.perplexity_stride = settings.perplexity->stride;
  }
  report.probe_settings = probe_settings_for(report.window, settings);
  const Encoder plain = [&tokenizer](const std::string& text) { return tokenizer.encode(text); };
  const int64_t bos = bos_token(tokenizer, model);
  const std::map<ProbeKind, std::vector<ProbeItem>> probes = make_probes(plain, bos, report.probe_settings);

  report.modes.push_back(settings.base_scores ? *settings.base_scores : score_base(base, tokenizer, settings, report.window));
  const double base_average = report.modes[0].task_average;
  for (attention::Mode mode : diagnosed_modes()) {
    ModeScores scores = score_mode(model, mode, attention::mode_name(mode), tokenizer, settings, probes,
                                   report.probe_settings, report.window);
    if (base_average > 0) scores.recovered = 100 * scores.task_average / base_average;
    report.modes.push_back(std::move(scores));
  }

  // Usage on held-out prose when given, else on passkey contexts four windows long: every layer
  // sees positions far beyond w.
  std::vector<std::vector<int64_t>> sequences = settings.usage_sequences;
  report.usage_source = settings.usage_source;
  if (sequences.empty()) {
    ProbeSettings long_inputs = report.probe_settings;
    long_inputs.distances = {4 * report.window};
    long_inputs.items_per_distance = 2;
    for (const ProbeItem& item : make_probe(ProbeKind::Passkey, plain, bos, long_inputs)) {
      sequences.push_back(item.context);
    }
    report.usage_source = "2 synthetic passkey contexts of " + std::to_string(4 * report.window) + " tokens (no text given)";
  }
  // Two synthetic contexts are no sample of text: intervals only over the given prose.
  const int bootstrap_samples = settings.usage_sequences.empty() ? 0 : 1000;
  const attention::Mode measured_in = usage_mode(model);
  report.usage = measure_component_usage(model, sequences, measured_in, bootstrap_samples, settings.seed,
                                         progress_of(settings, "usage@" + attention::mode_name(measured_in)));

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
  report.window_reach = model.config.num_layers * (report.window - 1);
  for (const auto& [a, b] : paired_mode_comparisons()) {
    for (PairedDifference& d : compare_paired(*find_mode(report.modes, a), *find_mode(report.modes, b), report.window,
                                              report.window_reach, a, b)) {
      report.paired.push_back(std::move(d));
    }
  }
  report.verdict = judge_usage(report.usage, report.modes);
  return report;
}

}  // namespace lincat::eval
