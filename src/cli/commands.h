// One function per subcommand: each declares its flags on `app` and, when chosen, sets `action`
// to the work it will do once parsing has succeeded.
#pragma once
#include <CLI/CLI.hpp>

#include <functional>

namespace lincat::cli {

using Action = std::function<int()>;

void add_info_command(CLI::App& app, Action& action);
void add_forward_command(CLI::App& app, Action& action);
void add_generate_command(CLI::App& app, Action& action);
void add_bench_command(CLI::App& app, Action& action);
void add_random_model_command(CLI::App& app, Action& action);
void add_convert_init_command(CLI::App& app, Action& action);
void add_eval_command(CLI::App& app, Action& action);
void add_diagnose_command(CLI::App& app, Action& action);
// `lincat bench eval`, added to the bench command.
void add_eval_bench_command(CLI::App& bench, Action& action);
void add_convert_command(CLI::App& app, Action& action);
void add_plan_command(CLI::App& app, Action& action);
void add_merge_command(CLI::App& app, Action& action);
void add_calibrate_command(CLI::App& app, Action& action);
void add_export_command(CLI::App& app, Action& action);
void add_pretrain_command(CLI::App& app, Action& action);
void add_demo_command(CLI::App& app, Action& action);
// `lincat tokenize` and `lincat detokenize`; `lincat bench tokenize`, added to the bench command.
void add_tokenize_command(CLI::App& app, Action& action);
void add_tokenize_bench_command(CLI::App& bench, Action& action);

}  // namespace lincat::cli
