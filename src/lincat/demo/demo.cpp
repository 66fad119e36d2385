#include "lincat/demo/demo.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "lincat/eval/diagnose_report.h"
#include "lincat/eval/evaluate.h"
#include "lincat/eval/record_files.h"
#include "lincat/eval/task_readers.h"
#include "lincat/eval/text_encoder.h"
#include "lincat/train/convert.h"
#include "lincat/util/error.h"
#include "lincat/util/line_stream.h"
#include "lincat/util/stopwatch.h"

namespace lincat::demo {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kUsageSequences = 64;  // held-out sequences the linear usage is measured on

std::string clock_text(double seconds) {
  const auto s = static_cast<long long>(seconds + 0.5);
  char text[32];
  std::snprintf(text, sizeof text, "%lld:%02lld", s / 60, s % 60);
  return text;
}

// The recipe from RECIPES_DIR/<name>.yaml with the demo's overrides; its token cache goes under
// OUT/cache unless the recipe or an override names one.
train::Recipe demo_recipe(const DemoOptions& o, const std::string& name) {
  train::Recipe recipe = train::load_recipe((fs::path(o.recipes_dir) / (name + ".yaml")).string());
  if (recipe.data.cache_dir.empty()) recipe.data.cache_dir = (fs::path(o.out_dir) / "cache").string();
  train::apply_overrides(recipe, o.overrides);
  train::validate(recipe);
  return recipe;
}

}  // namespace

const std::vector<std::string>& demo_recipe_names() {
  static const std::vector<std::string> names = {"lolcats", "hedgecats", "ssd", "linear"};
  return names;
}

namespace {

// One recipe converted with one seed, then diagnosed.
struct Conversion {
  size_t index = 0;   // place in the run
  size_t recipe = 0;  // index into the demo's recipes
  train::Recipe settings;
  std::string label;  // "lolcats", or "lolcats seed 1" with several seeds
  RecipeOutcome outcome;
};

// Thrown from a diagnosis's progress when the run stops (a conversion was interrupted).
struct Abandoned {};

// The demo's jobs: each conversion, the teacher's scores, each conversion's diagnosis. With
// `jobs` 1 they run in turns (a conversion, then its diagnosis); with more, that many at once, in
// threads (each job single-threaded, so that two cores do twice the work). Every job's numbers are
// the same either way: one conversion runs at a time and only conversions draw from libtorch's
// random generator; the diagnoses share only the (immutable) teacher.
class DemoRun {
 public:
  DemoRun(const DemoOptions& o, eval::DiagnoseSettings settings, const Model& teacher, const io::Tokenizer& tokenizer,
          std::vector<int64_t> prose_tokens, std::vector<Conversion>& conversions, std::ostream& out,
          std::ostream& progress, bool terminal)
      : o_(o),
        settings_(std::move(settings)),
        teacher_(teacher),
        tokenizer_(tokenizer),
        prose_tokens_(std::move(prose_tokens)),
        conversions_(conversions),
        out_(out),
        progress_(progress),
        terminal_(terminal) {}

  // 0, or the interrupted conversion's exit code.
  int run() {
    if (o_.jobs <= 1) {
      for (Conversion& c : conversions_) {
        if (const int code = convert(c, out_, progress_, terminal_); code != 0) return code;
        diagnose(c, out_);
      }
      return 0;
    }
    return run_in_parallel(o_.jobs);
  }

 private:
  // What a worker does next; Idle: nothing is ready yet; Done: nothing is left.
  struct Job {
    enum Kind { Convert, ScoreTeacher, Diagnose, Idle, Done } kind = Idle;
    size_t conversion = 0;  // Convert, Diagnose
    int64_t window = 0;     // ScoreTeacher
  };

  // `workers` jobs at once, each single-threaded. One conversion at a time (a conversion owns the
  // interrupt handler), conversions first since each unlocks a diagnosis, then the teacher's
  // scores, then the diagnoses in order: with 2 workers the conversions run beside the teacher's
  // scoring and the diagnoses, and the last diagnoses beside each other.
  int run_in_parallel(int workers) {
    std::mutex out_lock, progress_lock;
    std::vector<std::exception_ptr> errors(static_cast<size_t>(workers));
    std::vector<int> codes(static_cast<size_t>(workers), 0);
    const auto worker = [&](size_t w) {
      LineStream out(out_, out_lock), progress(progress_, progress_lock);
      try {
        for (Job job = next_job(); job.kind != Job::Done; job = next_job()) {
          Conversion& c = conversions_[job.conversion];
          if (job.kind == Job::Convert) {
            // A progress bar redrawn in place cannot share the terminal with other jobs' lines.
            codes[w] = convert(c, out, progress, /*terminal=*/false);
            if (codes[w] != 0) {
              stop();
              return;
            }
          } else if (job.kind == Job::ScoreTeacher) {
            score_teacher(job.window, out);
          } else {
            diagnose(c, out);
          }
          finish(job);
        }
      } catch (const Abandoned&) {
      } catch (...) {
        errors[w] = std::current_exception();
        stop();
      }
    };
    std::vector<std::thread> threads;
    for (size_t w = 1; w < static_cast<size_t>(workers); ++w) threads.emplace_back(worker, w);
    worker(0);
    for (std::thread& t : threads) t.join();
    for (const std::exception_ptr& error : errors) {
      if (error) std::rethrow_exception(error);
    }
    for (const int code : codes) {
      if (code != 0) return code;
    }
    return 0;
  }

  // Waits until a job is ready (or none is left) and takes it.
  Job next_job() {
    std::unique_lock<std::mutex> guard(lock_);
    for (;;) {
      if (stop_) return {Job::Done};
      const Job job = ready_job();
      if (job.kind != Job::Idle) return job;
      ready_.wait(guard);
    }
  }

  // The first ready job, marked taken (under lock_).
  Job ready_job() {
    if (!converting_ && next_conversion_ < conversions_.size()) {
      converting_ = true;
      return {Job::Convert, next_conversion_++};
    }
    for (const Conversion& c : conversions_) {
      const int64_t window = c.settings.attention.window;
      if (teacher_taken_.insert(window).second) return {Job::ScoreTeacher, 0, window};
    }
    bool left = converting_ || next_conversion_ < conversions_.size() || teacher_scores_.size() < teacher_taken_.size();
    for (size_t i = 0; i < conversions_.size(); ++i) {
      if (diagnosis_taken_[i]) continue;
      left = true;
      if (converted_[i] && teacher_scores_.count(conversions_[i].settings.attention.window) > 0) {
        diagnosis_taken_[i] = true;
        return {Job::Diagnose, i};
      }
    }
    return {left ? Job::Idle : Job::Done};
  }

  void finish(const Job& job) {
    const std::lock_guard<std::mutex> guard(lock_);
    if (job.kind == Job::Convert) {
      converting_ = false;
      converted_[job.conversion] = true;
    }
    ready_.notify_all();  // a conversion or the teacher's scores (stored by score_teacher) unlock diagnoses
  }

  bool stopped() {
    const std::lock_guard<std::mutex> guard(lock_);
    return stop_;
  }

  void stop() {
    const std::lock_guard<std::mutex> guard(lock_);
    stop_ = true;
    ready_.notify_all();
  }

  int convert(Conversion& c, std::ostream& out, std::ostream& progress, bool terminal) {
    const size_t n = conversions_.size();
    const double elapsed = seconds_since(start_);
    const size_t diagnosed = diagnosed_;
    const std::string eta = diagnosed == 0 ? "unknown until the first recipe is diagnosed"
                                           : clock_text(elapsed / static_cast<double>(diagnosed) * static_cast<double>(n - diagnosed));
    out << "\n== [" << c.index + 1 << "/" << n << "] " << c.label << ": conversion (stage 1 "
        << train::stage_steps(c.settings.stage1, c.settings.data) << " steps, stage 2 "
        << train::stage_steps(c.settings.stage2, c.settings.data) << " steps) | elapsed " << clock_text(elapsed)
        << ", demo ETA " << eta << "\n";
    out.flush();
    const SteadyClock::time_point phase = SteadyClock::now();
    std::error_code error;
    fs::remove_all(c.outcome.directory, error);
    if (error) throw UserError(c.outcome.directory + ": cannot replace (" + error.message() + ")");
    train::ConvertOptions convert;
    convert.model_dir = o_.teacher;
    convert.data = {o_.conversion_data};
    convert.out_dir = c.outcome.directory;
    convert.recipe = c.settings;
    convert.load = o_.load;
    const int code = train::run_conversion(convert, out, progress, terminal);
    c.outcome.convert_seconds = seconds_since(phase);
    return code;
  }

  // Scores the teacher for conversions of window `window`: every conversion with that window is
  // compared with the same scores.
  void score_teacher(int64_t window, std::ostream& out) {
    const torch::NoGradGuard no_grad;  // a new thread starts in grad mode
    out << "== teacher: scores for conversions of window " << window << "\n";
    out.flush();
    const SteadyClock::time_point phase = SteadyClock::now();
    eval::DiagnoseSettings settings = settings_;
    settings.progress = progress_for("teacher");
    eval::ModeScores scores = eval::score_base(teacher_, tokenizer_, settings, window);
    out << "teacher scores took " << clock_text(seconds_since(phase)) << "\n";
    out.flush();
    const std::lock_guard<std::mutex> guard(lock_);
    teacher_scores_.emplace(window, std::move(scores));
  }

  // The teacher's scores for `window`, scored first if no job has.
  eval::ModeScores teacher_scores(int64_t window, std::ostream& out) {
    {
      const std::lock_guard<std::mutex> guard(lock_);
      const auto scored = teacher_scores_.find(window);
      if (scored != teacher_scores_.end()) return scored->second;
    }
    score_teacher(window, out);
    return teacher_scores(window, out);
  }

  void diagnose(Conversion& c, std::ostream& out) {
    const torch::NoGradGuard no_grad;  // a new thread starts in grad mode
    RecipeOutcome& outcome = c.outcome;
    out << "== [" << c.index + 1 << "/" << conversions_.size() << "] " << c.label << ": diagnostics ("
        << o_.tasks.size() << " tasks and 2 probes in 7 modes) | conversion took " << clock_text(outcome.convert_seconds)
        << "\n";
    out.flush();
    const SteadyClock::time_point phase = SteadyClock::now();
    const auto model = load_model(outcome.directory, o_.load);
    eval::DiagnoseSettings settings = settings_;
    settings.base_scores = teacher_scores(model->config.hybrid->window, out);
    settings.progress = progress_for(c.label);
    // Usage on the held-out prose: 64 sequences of four windows, as many as the text holds (at
    // least 2, else diagnose's synthetic fallback).
    const int64_t length = 4 * model->config.hybrid->window, bos = eval::bos_token(tokenizer_, *model);
    const int64_t count =
        std::min<int64_t>(kUsageSequences, static_cast<int64_t>(prose_tokens_.size()) / (bos >= 0 ? length - 1 : length));
    if (count >= 2) {
      settings.usage_sequences = eval::text_sequences(prose_tokens_, bos, length, count, o_.perplexity_text);
      settings.usage_source = std::to_string(count) + " sequences of " + std::to_string(length) +
                              " tokens of held-out prose (" + o_.perplexity_text + ")";
    }
    outcome.diagnose = eval::diagnose(*model, outcome.directory, teacher_, o_.teacher, tokenizer_, settings);
    eval::write_diagnose_report(outcome.diagnose, (fs::path(outcome.directory) / "diagnose").string());
    outcome.diagnose_seconds = seconds_since(phase);
    out << c.label + ": diagnostics took " + clock_text(outcome.diagnose_seconds) + "\n\n" + recipe_table_markdown(outcome);
    out.flush();
    ++diagnosed_;
  }

  // Progress lines named after the recipe (two recipes' lines interleave); they end the diagnosis
  // when the run stops.
  std::function<eval::ItemProgress(const std::string&)> progress_for(const std::string& recipe) {
    return [this, recipe](const std::string& pass) -> eval::ItemProgress {
      eval::ItemProgress shown = o_.progress ? o_.progress(recipe + " " + pass) : eval::ItemProgress{};
      return [this, shown](int64_t done, int64_t total) {
        if (stopped()) throw Abandoned{};
        if (shown) shown(done, total);
      };
    };
  }

  const DemoOptions& o_;
  const eval::DiagnoseSettings settings_;
  const Model& teacher_;
  const io::Tokenizer& tokenizer_;
  const std::vector<int64_t> prose_tokens_;
  std::vector<Conversion>& conversions_;
  std::ostream& out_;
  std::ostream& progress_;
  const bool terminal_;
  const SteadyClock::time_point start_ = SteadyClock::now();

  std::atomic<size_t> diagnosed_{0};
  std::mutex lock_;  // guards what follows
  std::condition_variable ready_;
  std::map<int64_t, eval::ModeScores> teacher_scores_;  // per window
  bool stop_ = false;
  // The parallel run's schedule.
  bool converting_ = false;
  size_t next_conversion_ = 0;
  std::vector<bool> converted_ = std::vector<bool>(conversions_.size(), false);
  std::vector<bool> diagnosis_taken_ = std::vector<bool>(conversions_.size(), false);
  std::set<int64_t> teacher_taken_;  // windows whose teacher scoring a job has taken (scored: in teacher_scores_)
};

}  // namespace

DemoResult run_demo(const DemoOptions& o, std::ostream& out, std::ostream& progress, bool terminal) {
  const SteadyClock::time_point start = SteadyClock::now();
  DemoResult result;
  DemoReport& report = result.report;
  report.teacher = o.teacher;
  report.conversion_data = o.conversion_data;
  report.heldout_dir = o.heldout_dir;
  report.perplexity_text = o.perplexity_text;

  // Everything that can be wrong with the inputs fails here, before minutes of training.
  std::vector<train::Recipe> recipes;
  for (const std::string& name : o.recipes) recipes.push_back(demo_recipe(o, name));
  eval::DiagnoseSettings settings;
  for (const std::string& task : o.tasks) settings.tasks.push_back(eval::load_task(task, o.heldout_dir, 0));
  settings.limit = o.task_limit;
  settings.probe_items = o.probe_items;
  settings.seed = o.probe_seed;
  const auto teacher = load_model(o.teacher, o.load);
  // Probe contexts (the distance plus the question) must fit the positions the teacher was trained on.
  settings.max_probe_distance = teacher->config.max_position_embeddings - 64;
  const auto tokenizer = io::Tokenizer::load(eval::tokenizer_path("", *teacher));
  std::vector<int64_t> prose_tokens;  // the perplexity text's ids alone, for the usage sequences
  if (!o.perplexity_text.empty()) {
    // Bits per byte in every mode over windows of max_position_embeddings tokens that overlap by one
    // token (lm-evaluation-harness's rolling windows): each token is forwarded once, half the cost of
    // eval's default half-window stride, which the demo's time budget cannot afford in 7 modes.
    const std::string text = eval::read_text_file(o.perplexity_text);
    const int64_t window = teacher->config.max_position_embeddings;
    settings.perplexity = eval::perplexity_text(*tokenizer, eval::bos_encoder(*tokenizer, *teacher), *teacher, text,
                                                o.perplexity_text, window, window - 1);
    prose_tokens = tokenizer->encode(text);
  }

  const size_t seeds = static_cast<size_t>(std::max(1, o.seeds));
  std::vector<Conversion> conversions;
  for (size_t r = 0; r < recipes.size(); ++r) {
    for (size_t k = 0; k < seeds; ++k) {
      Conversion c;
      c.index = conversions.size();
      c.recipe = r;
      c.settings = recipes[r];
      c.settings.seed += k;
      c.label = o.recipes[r] + (seeds > 1 ? " seed " + std::to_string(c.settings.seed) : "");
      c.outcome.recipe = o.recipes[r];
      c.outcome.directory =
          (fs::path(o.out_dir) / (k == 0 ? o.recipes[r] : o.recipes[r] + ".seed" + std::to_string(c.settings.seed))).string();
      conversions.push_back(std::move(c));
    }
  }
  const int jobs = std::max(1, o.jobs);
  out << "demo: " << conversions.size() << " conversions (" << recipes.size() << " recipes x " << seeds
      << (seeds == 1 ? " seed" : " seeds") << "), "
      << jobs << (jobs == 1 ? " job at once (each conversion, then its diagnosis)"
                            : " jobs at once (one conversion at a time, beside the teacher's scoring and the diagnoses)")
      << "\n";
  result.exit_code =
      DemoRun(o, std::move(settings), *teacher, *tokenizer, std::move(prose_tokens), conversions, out, progress, terminal).run();
  if (result.exit_code != 0) return result;
  for (size_t r = 0; r < recipes.size(); ++r) {
    std::vector<SeedScores> runs;
    for (Conversion& c : conversions) {
      if (c.recipe != r) continue;
      runs.push_back(seed_scores(c.outcome, c.settings.seed));
      if (c.settings.seed == recipes[r].seed) report.recipes.push_back(std::move(c.outcome));
    }
    report.seeds.emplace_back(o.recipes[r], std::move(runs));
  }
  // Each recipe against lolcats, item by item in hybrid mode (the first seed of each).
  const auto lolcats = std::find_if(report.recipes.begin(), report.recipes.end(),
                                    [](const RecipeOutcome& x) { return x.recipe == "lolcats"; });
  for (const RecipeOutcome& x : report.recipes) {
    if (lolcats == report.recipes.end() || x.recipe == "lolcats") continue;
    const auto hybrid = [](const eval::DiagnoseReport& d) {
      return *std::find_if(d.modes.begin(), d.modes.end(), [](const eval::ModeScores& m) { return m.name == "hybrid"; });
    };
    for (eval::PairedDifference& d : eval::compare_paired(hybrid(x.diagnose), hybrid(lolcats->diagnose), x.diagnose.window,
                                                          x.diagnose.window_reach, x.recipe, "lolcats")) {
      report.against_lolcats.push_back(std::move(d));
    }
  }

  report.total_seconds = seconds_since(start);
  out << "\n== Summary (scores in %)\n\n" << summary_table_markdown(report) << "\n" << seeds_table_markdown(report);
  result.written = write_demo_report(report, o.out_dir);
  return result;
}

}  // namespace lincat::demo
