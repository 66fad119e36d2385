// lincat demo [--out DIR]: the README's main command. Converts the committed teacher with each
// demo recipe, diagnoses every conversion on held-out tasks and long-range probes, prints the
// paper's Table 1 per recipe and a summary across recipes, and writes the full report to DIR.
// Inputs default to paths in the source tree this program was built from.
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "cli/cmd_eval_flags.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "lincat/demo/demo.h"
#include "lincat/io/tokenizer.h"
#include "lincat/train/progress.h"
#include "lincat/util/error.h"
#include "lincat/util/threads.h"
#include "source_dir.h"

namespace lincat::cli {
namespace {

namespace fs = std::filesystem;

std::string in_source_tree(const std::string& relative) { return (fs::path(LINCAT_SOURCE_DIR) / relative).string(); }

struct DemoFlags {
  ModelFlags model;  // its directory is --teacher
  std::vector<std::string> data = {in_source_tree("data/convert/train.txt")};  // one file
  std::string heldout = in_source_tree("data/heldout");
  std::string perplexity_text = in_source_tree("data/heldout/perplexity.txt");
  std::string recipes_dir = in_source_tree("recipes/demo");
  std::string recipes;
  std::string tasks = "next_sentence,last_word";
  std::string out = "out/demo";
  RecipeFlags recipe;
  int seeds = 1;
  int64_t limit = 100;  // keeps the diagnostics within the time budget whatever the task files hold
  ProbeFlags probes{demo::DemoOptions{}.probe_items};
  int threads = 0;
  int jobs = demo::DemoOptions{}.jobs;
};

void require_file(const std::string& flag, const std::string& path, const std::string& what) {
  if (!fs::is_regular_file(path)) throw UserError(flag + " " + path + ": no such file (" + what + ")");
}

void require_directory(const std::string& flag, const std::string& path, const std::string& what) {
  if (!fs::is_directory(path)) throw UserError(flag + " " + path + ": no such directory (" + what + ")");
}

// Checks every input path, naming its flag, before any work starts.
demo::DemoOptions demo_options(const DemoFlags& f) {
  demo::DemoOptions o;
  o.teacher = f.model.directory;
  require_directory("--teacher", o.teacher, "expected a Hugging Face model directory");
  require_file("--teacher", (fs::path(o.teacher) / "config.json").string(), "the teacher's config.json");
  if (io::Tokenizer::find_in(o.teacher).empty()) {
    throw UserError("--teacher " + o.teacher + ": no tokenizer.json or tokenizer.model (the teacher's tokenizer)");
  }
  if (f.data.size() != 1) throw UserError("--data: the demo converts on one text file, got " + std::to_string(f.data.size()));
  o.conversion_data = f.data.front();
  require_file("--data", o.conversion_data, "the text the recipes convert on");
  o.heldout_dir = f.heldout;
  require_directory("--heldout", o.heldout_dir, "the held-out task files");
  o.tasks = split_list(f.tasks, "--tasks");
  o.perplexity_text = f.perplexity_text;
  if (!o.perplexity_text.empty()) require_file("--perplexity-text", o.perplexity_text, "held-out text for bits per byte");
  o.recipes_dir = f.recipes_dir;
  require_directory("--recipes-dir", o.recipes_dir, "the demo recipes, <recipe>.yaml");
  if (!f.recipes.empty()) o.recipes = split_list(f.recipes, "--recipes");
  for (const std::string& name : o.recipes) {
    require_file("--recipes-dir", (fs::path(o.recipes_dir) / (name + ".yaml")).string(), "recipe " + name);
  }
  o.out_dir = f.out;
  o.overrides = f.recipe.overrides();
  o.seeds = f.seeds;
  o.task_limit = f.limit;
  o.probe_items = f.probes.items;
  o.probe_seed = f.probes.seed;
  o.load = f.model.load_options();
  o.jobs = f.jobs;
  // Two jobs' progress lines interleave: a line each, never redrawn in place.
  const bool redraw = f.jobs == 1 && train::stderr_is_terminal();
  o.progress = [redraw](const std::string& label) { return item_progress_redrawn_if(label, redraw); };
  return o;
}

std::string clock_text(double seconds) {
  const auto s = static_cast<long long>(seconds + 0.5);
  return std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
}

int run_demo(const DemoFlags& flags) {
  const demo::DemoOptions options = demo_options(flags);
  // The demo's model is small: extra threads mostly wait on each other, and on a shared machine
  // their spinning costs several times the work. One thread unless asked.
  if (flags.threads < 0) throw UserError("--threads " + std::to_string(flags.threads) + ": must be >= 1");
  if (flags.threads > 0) {
    set_threads(flags.threads);
  } else if (std::getenv("LINCAT_THREADS") == nullptr) {
    set_threads(1);
  }
  const demo::DemoResult result = demo::run_demo(options, std::cout, std::cerr, train::stderr_is_terminal());
  if (result.exit_code != 0) return result.exit_code;
  for (const std::string& path : result.written) std::cout << "wrote " << path << "\n";
  std::cout << "per recipe: " << options.out_dir << "/<recipe>/{recipe.yaml,train_log.jsonl,diagnose/}\n";
  std::cout << "total wall time " << clock_text(result.report.total_seconds) << "\n";
  return 0;
}

}  // namespace

void add_demo_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<DemoFlags>();
  flags->model.directory = in_source_tree("models/teacher");
  CLI::App* command = app.add_subcommand(
      "demo", "convert the bundled teacher with every demo recipe, diagnose each, write a report (the main job)");
  command->add_option("--teacher", flags->model.directory, "teacher model directory (with tokenizer.json or tokenizer.model)")
      ->capture_default_str();
  add_device_flags(*command, flags->model.device, &flags->model.dtype);
  add_training_data_flag(*command, flags->data, "the text every recipe converts on")->capture_default_str();
  command->add_option("--heldout", flags->heldout, "held-out task directory (as eval --data-dir)")->capture_default_str();
  command->add_option("--tasks", flags->tasks, "held-out tasks")->capture_default_str();
  add_perplexity_text_flag(*command, flags->perplexity_text)->capture_default_str();
  command->add_option("--recipes-dir", flags->recipes_dir, "directory of <recipe>.yaml")->capture_default_str();
  command->add_option("--recipes", flags->recipes, "comma-separated recipes (default: lolcats,hedgecats,ssd,linear)");
  command->add_option("--out", flags->out, "report directory; its <recipe>/ subdirectories are replaced")
      ->capture_default_str();
  flags->recipe.add_to(*command, "every recipe's");
  add_limit_flag(*command, flags->limit);
  flags->probes.add_to(*command);
  command->add_option("--seeds", flags->seeds,
                      "conversions per recipe (seeds: the recipe's, +1, ...): mean and spread across them; each costs "
                      "a whole demo's time")
      ->capture_default_str()
      ->check(at_least(1));
  command->add_option("--threads", flags->threads, "libtorch threads per job (default: $LINCAT_THREADS, else 1)");
  command->add_option("--jobs", flags->jobs,
                      "jobs at once, each on one thread: 2 diagnoses one recipe while the next converts, 1 runs "
                      "them in turns (the same numbers either way)")
      ->capture_default_str()
      ->check(at_least(1));
  command->callback([flags, &action] { action = [flags] { return run_demo(*flags); }; });
}

}  // namespace lincat::cli
