// Flags shared by several subcommands, each declared once here. A name that means different
// things in different commands is declared by each of them: --out (a file or a directory), --seed
// (which random draw: training, sampling, initial weights), --tokens, --ids, --text, --config.
#pragma once
#include <CLI/CLI.hpp>

#include <map>
#include <string>
#include <vector>

#include "lincat/dist/settings.h"
#include "lincat/model/model.h"
#include "lincat/train/recipe.h"
#include "lincat/train/test_hooks.h"
#include "lincat/util/error.h"

namespace lincat::cli {

struct ModelFlags {
  std::string directory;
  std::string device = "cpu";
  std::string dtype = "auto";
  std::string attention;  // empty: the model's default mode

  void add_to(CLI::App& command);  // MODEL, --device, --dtype
  // --attention: one mode, or with `several` a comma-separated list of modes.
  void add_attention_to(CLI::App& command, bool several = false);
  LoadOptions load_options() const;
  // The --attention mode checked against `model`, or the model's default mode.
  attention::Mode mode(const Model& model) const;
  // The --attention modes ("hybrid,window"), each checked against `model`, or the model's default mode.
  std::vector<attention::Mode> modes(const Model& model) const;
};

// --window, --layout, --sinks, --feature-map, --feature-dim, --sinks-mode-keys: one flag per
// attention::hybrid_settings() entry, named after it.
struct HybridFlags {
  attention::HybridConfig config;
  std::map<std::string, std::string> names;  // the named settings as given, parsed by settings()

  void add_to(CLI::App& command);
  // The settings, validated; UserError naming the flag.
  attention::HybridConfig settings() const;
  // The flag of each setting ("--window", ...), for commands that exclude them.
  static std::vector<std::string> flag_names();
};

// --device (cpu, cuda[:N]) and, when `dtype` is given, --dtype (the compute dtype): for commands
// whose model is not a ModelFlags MODEL.
void add_device_flags(CLI::App& command, std::string& device, std::string* dtype);

// --recipe NAME_OR_FILE (required): the recipe a conversion runs or is planned for.
void add_recipe_flag(CLI::App& command, std::string& recipe);

// --set key=value (repeatable), --stage1-steps, --stage2-steps: changes to a recipe.
struct RecipeFlags {
  std::vector<std::string> assignments;
  int64_t stage1_steps = 0;
  int64_t stage2_steps = 0;
  const CLI::Option* stage1_given = nullptr;  // the step counts override only when given
  const CLI::Option* stage2_given = nullptr;

  // `whose`: "the recipe's" or "every recipe's", for the help.
  void add_to(CLI::App& command, const std::string& whose);
  train::RecipeOverrides overrides() const;
};

// --probe-items, --seed (the probes' generation seed): the long-range probes of demo and diagnose.
struct ProbeFlags {
  int items;
  uint64_t seed = 1234;

  explicit ProbeFlags(int default_items) : items(default_items) {}
  void add_to(CLI::App& command);
};

// --perplexity-text FILE: held-out text scored for bits per byte in every mode, the modes (and
// recipes) compared window by window; the caller gives a default or leaves it empty (none).
CLI::Option* add_perplexity_text_flag(CLI::App& command, std::string& path);

// --ppl-window, --stride: the strided perplexity's windows (0: max_position_embeddings, half the window).
struct PerplexityWindowFlags {
  int64_t window = 0;
  int64_t stride = 0;

  void add_to(CLI::App& command);
};

// --limit: score only the first N items of each task (0: all).
void add_limit_flag(CLI::App& command, int64_t& limit);

// --tokenizer PATH; `when_absent` says what happens without it.
void add_tokenizer_flag(CLI::App& command, std::string& path, const std::string& when_absent);

// --data (training text, one file or several; the caller makes it required or gives a default),
// --resume (continue the interrupted run in --out).
CLI::Option* add_training_data_flag(CLI::App& command, std::vector<std::string>& paths, const std::string& formats);
void add_resume_flag(CLI::App& command, bool& resume);

// --set key=value (repeatable), for a list of `what` settings.
void add_set_flag(CLI::App& command, std::vector<std::string>& assignments, const std::string& what,
                  const std::string& example);

// A benchmark's --repetitions (at least 1; `help` says what one is) and --json (results file).
void add_repetitions_flag(CLI::App& command, int& repetitions, const std::string& help);
void add_json_flag(CLI::App& command, std::string& path);

// --stop-after-steps, and the environment variable LINCAT_TEST_KILL_RANK_AT_STEP="RANK:STEP"
// (that rank sends itself SIGKILL before that 1-based step, as a crashed machine would): the
// training commands' fault injection for tests.
struct TestHookFlags {
  int64_t stop_after_steps = 0;

  void add_to(CLI::App& command);
  train::TestHooks hooks() const;
};

// --world-size, --rank, --master-addr, --master-port, --dist-timeout: the processes of a run.
// The variables torch's launchers set (WORLD_SIZE, RANK, LOCAL_RANK, MASTER_ADDR, MASTER_PORT)
// are the defaults; given flags win.
struct DistFlags {
  int world_size = 1;
  int rank = 0;
  std::string master_addr;
  int master_port = 0;
  double timeout_seconds = 300;
  CLI::Option* world_size_given = nullptr;
  CLI::Option* rank_given = nullptr;
  CLI::Option* addr_given = nullptr;
  CLI::Option* port_given = nullptr;

  void add_to(CLI::App& command);
  // The settings, validated; `device` ("cpu", "cuda", "cuda:N") picks the backend and, for a bare
  // "cuda" with several processes, cuda:LOCAL_RANK. UserError naming the flag or variable.
  dist::Settings settings(std::string& device) const;
};

// An integer flag's lower bound, with a message that says so (CLI11's ranges print 1.79e308).
CLI::Validator at_least(long long min);

// The flag of a library setting: "top_k" -> "--top-k".
std::string flag_of_setting(const std::string& setting);

// The message of a library SettingError as the user typed it: the setting's flag in place of its
// name when the chosen (sub)command of `app` has that flag, else the message unchanged.
std::string message_with_flag(const CLI::App& app, const SettingError& error);

// "a, b,c" -> {"a", "b", "c"}; UserError naming `flag` on an empty item.
std::vector<std::string> split_list(const std::string& text, const std::string& flag);

// "1,2,3" (spaces allowed) -> ids; UserError naming `flag` on anything else.
std::vector<int64_t> parse_id_list(const std::string& text, const std::string& flag);

}  // namespace lincat::cli
