#include "cli/flags.h"

#include <algorithm>
#include <csignal>
#include <cstdlib>

#include "lincat/attention/hybrid_settings.h"
#include "lincat/model/decoder.h"
#include "lincat/util/error.h"

namespace lincat::cli {

CLI::Validator at_least(long long min) {
  return CLI::Validator(
      [min](std::string& text) -> std::string {
        long long value = 0;
        if (!CLI::detail::lexical_cast(text, value)) return "'" + text + "' is not an integer";
        return value >= min ? std::string() : "value " + text + " must be >= " + std::to_string(min);
      },
      "");
}

void ModelFlags::add_to(CLI::App& command) {
  command.add_option("MODEL", directory, "model directory (config.json, *.safetensors, tokenizer.model)")
      ->required();
  add_device_flags(command, device, &dtype);
}

void add_device_flags(CLI::App& command, std::string& device, std::string* dtype) {
  command.add_option("--device", device, "cpu or cuda[:N]")->capture_default_str();
  if (dtype) command.add_option("--dtype", *dtype, "compute dtype: auto (the checkpoint's on CUDA; float32 on CPU unless only 16-bit fits), float32, bfloat16 or float16")->capture_default_str();
}

void ModelFlags::add_attention_to(CLI::App& command, bool several) {
  std::string modes;
  for (attention::Mode m : attention::all_modes()) modes += (modes.empty() ? "" : ", ") + attention::mode_name(m);
  command.add_option("--attention", attention,
                     several ? "comma-separated attention modes (default: the model's), all run on one loaded model: " +
                                   modes
                             : "attention mode: " + modes + " (default: the model's; original models have softmax only)");
}

LoadOptions ModelFlags::load_options() const {
  LoadOptions options;
  options.device = parse_device(device);
  options.dtype = parse_dtype(dtype);
  return options;
}

attention::Mode ModelFlags::mode(const Model& model) const {
  const std::vector<attention::Mode> all = modes(model);
  if (all.size() > 1) throw UserError("--attention " + attention + ": one mode only");
  return all.front();
}

std::vector<attention::Mode> ModelFlags::modes(const Model& model) const {
  if (attention.empty()) return {model.config.default_mode};
  std::vector<attention::Mode> out;
  for (const std::string& name : split_list(attention, "--attention")) {
    try {
      out.push_back(attention::parse_mode(name));
      check_mode(model, out.back());
    } catch (const UserError& e) {
      throw UserError(std::string("--attention: ") + e.what());
    }
  }
  return out;
}

std::string flag_of_setting(const std::string& setting) {
  std::string flag = "--" + setting;
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

std::string message_with_flag(const CLI::App& app, const SettingError& error) {
  const std::string flag = flag_of_setting(error.setting());
  const CLI::App* command = &app;
  while (!command->get_subcommands().empty()) command = command->get_subcommands().front();  // the chosen one
  for (; command != nullptr; command = command->get_parent()) {
    if (command->get_option_no_throw(flag) != nullptr) return flag + error.rest();
  }
  return error.what();
}


std::vector<std::string> HybridFlags::flag_names() {
  std::vector<std::string> out;
  for (const attention::HybridSetting& setting : attention::hybrid_settings()) out.push_back(flag_of_setting(setting.name));
  return out;
}

void HybridFlags::add_to(CLI::App& command) {
  for (const attention::HybridSetting& setting : attention::hybrid_settings()) {
    if (setting.number) {
      command.add_option(flag_of_setting(setting.name), config.*setting.number, setting.help)->capture_default_str();
    } else {
      names[setting.name] = setting.text(config);
      command.add_option(flag_of_setting(setting.name), names[setting.name], setting.help)->capture_default_str();
    }
  }
}

attention::HybridConfig HybridFlags::settings() const {
  attention::HybridConfig out = config;
  for (const attention::HybridSetting& setting : attention::hybrid_settings()) {
    try {
      const auto given = names.find(setting.name);
      if (setting.set_text && given != names.end()) setting.set_text(out, given->second);
      attention::check_setting(setting, out);
    } catch (const UserError& e) {
      throw UserError(flag_of_setting(setting.name) + ": " + e.what());
    }
  }
  return out;
}

void RecipeFlags::add_to(CLI::App& command, const std::string& whose) {
  add_set_flag(command, assignments, whose, "stage1.learning_rate=0.005");
  stage1_given = command.add_option("--stage1-steps", stage1_steps, "stage-1 steps (override " + whose + " steps or budget)")
                     ->check(at_least(0));
  stage2_given = command.add_option("--stage2-steps", stage2_steps, "stage-2 steps (override " + whose + " steps or budget)")
                     ->check(at_least(0));
}

train::RecipeOverrides RecipeFlags::overrides() const {
  train::RecipeOverrides out;
  out.assignments = assignments;
  if (stage1_given->count()) out.stage1_steps = stage1_steps;
  if (stage2_given->count()) out.stage2_steps = stage2_steps;
  return out;
}

void ProbeFlags::add_to(CLI::App& command) {
  command.add_option("--probe-items", items, "probe items per distance")->capture_default_str()->check(at_least(1));
  command.add_option("--seed", seed, "seed of the probes and of the bootstrap intervals")->capture_default_str();
}

CLI::Option* add_perplexity_text_flag(CLI::App& command, std::string& path) {
  return command.add_option("--perplexity-text", path,
                            "held-out text scored for bits per byte in every mode, compared window by window with "
                            "paired 95% intervals (\"\": none)");
}

void PerplexityWindowFlags::add_to(CLI::App& command) {
  command.add_option("--ppl-window", window, "perplexity window in tokens (default: max_position_embeddings)")
      ->check(at_least(0));
  command.add_option("--stride", stride, "perplexity stride in tokens (default: half the perplexity window)")
      ->check(at_least(0));
}

void add_limit_flag(CLI::App& command, int64_t& limit) {
  command.add_option("--limit", limit, "score only the first N items of each task (0: all)")
      ->capture_default_str()
      ->check(at_least(0));
}

void add_tokenizer_flag(CLI::App& command, std::string& path, const std::string& when_absent) {
  command.add_option("--tokenizer", path, "tokenizer.json or tokenizer.model, or a directory with one (default: " + when_absent + ")");
}

CLI::Option* add_training_data_flag(CLI::App& command, std::vector<std::string>& paths, const std::string& formats) {
  return command.add_option("--data", paths, "training text, one file or several: " + formats);
}

void add_resume_flag(CLI::App& command, bool& resume) {
  command.add_flag("--resume", resume, "continue the interrupted run in --out from its checkpoint");
}

void add_set_flag(CLI::App& command, std::vector<std::string>& assignments, const std::string& what,
                  const std::string& example) {
  command.add_option("--set", assignments, "override " + what + " setting: key=value, e.g. " + example);
}

void add_repetitions_flag(CLI::App& command, int& repetitions, const std::string& help) {
  command.add_option("--repetitions", repetitions, help)->capture_default_str()->check(at_least(1));
}

void add_recipe_flag(CLI::App& command, std::string& recipe) {
  command.add_option("--recipe", recipe, "recipe YAML file or built-in: lolcats, hedgecats, ssd, linear")->required();
}

void add_json_flag(CLI::App& command, std::string& path) {
  command.add_option("--json", path, "write the results as JSON");
}

void TestHookFlags::add_to(CLI::App& command) {
  command.add_option("--stop-after-steps", stop_after_steps,
                     "testing: checkpoint and stop after N steps of this run, exactly as on Ctrl-C (exit 130)")
      ->group("");  // test-only: accepted, not listed by --help
}

train::TestHooks TestHookFlags::hooks() const {
  train::TestHooks hooks;
  hooks.stop_after_steps = stop_after_steps;
  const char* kill = std::getenv("LINCAT_TEST_KILL_RANK_AT_STEP");
  const std::string text = kill ? kill : "";
  const size_t colon = text.find(':');
  if (colon != std::string::npos) {
    const int rank = std::atoi(text.substr(0, colon).c_str());
    const int64_t step = std::atoll(text.substr(colon + 1).c_str());
    hooks.before_step = [rank, step](int this_rank, int64_t this_step) {
      if (this_rank == rank && this_step == step) ::raise(SIGKILL);
    };
  }
  return hooks;
}

void DistFlags::add_to(CLI::App& command) {
  world_size_given = command.add_option("--world-size", world_size, "number of cooperating processes (default: WORLD_SIZE or 1)");
  rank_given = command.add_option("--rank", rank, "this process's rank, 0 to world size - 1 (default: RANK or 0)");
  addr_given = command.add_option("--master-addr", master_addr,
                                  "address of rank 0's machine, the rendezvous (default: MASTER_ADDR or 127.0.0.1)");
  port_given = command.add_option("--master-port", master_port, "rendezvous port on rank 0's machine (default: MASTER_PORT or 29500)");
  command.add_option("--dist-timeout", timeout_seconds,
                     "seconds to wait for the other processes at start-up and in any exchange")
      ->capture_default_str();
}

dist::Settings DistFlags::settings(std::string& device) const {
  dist::Settings s = dist::settings_from_environment();
  if (world_size_given->count()) s.world_size = world_size;
  if (rank_given->count()) s.rank = rank;
  if (addr_given->count()) s.master_addr = master_addr;
  if (port_given->count()) s.master_port = master_port;
  s.timeout_seconds = timeout_seconds;
  dist::validate(s);
  s.gpu = device.rfind("cuda", 0) == 0;
  if (device == "cuda" && s.distributed()) device = "cuda:" + std::to_string(s.local_rank);
  return s;
}

std::vector<std::string> split_list(const std::string& text, const std::string& flag) {
  std::vector<std::string> items;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t comma = std::min(text.find(',', pos), text.size());
    std::string item = text.substr(pos, comma - pos);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (item.empty()) throw UserError(flag + " '" + text + "': empty item in the comma-separated list");
    items.push_back(item);
    pos = comma + 1;
  }
  return items;
}

std::vector<int64_t> parse_id_list(const std::string& text, const std::string& flag) {
  std::vector<int64_t> ids;
  for (const std::string& item : split_list(text, flag)) {
    size_t used = 0;
    long long value = 0;
    try {
      value = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size()) {
      throw UserError(flag + " '" + text + "': expected comma-separated integers, found '" + item + "'");
    }
    ids.push_back(value);
  }
  return ids;
}

}  // namespace lincat::cli
