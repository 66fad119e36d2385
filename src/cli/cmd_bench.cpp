// lincat bench ...: benchmarks that print a table and, with --json FILE, write JSON.
#include "bench/bench_model.h"
#include "cli/commands.h"

namespace lincat::cli {

void add_bench_command(CLI::App& app, Action& action) {
  CLI::App* bench = app.add_subcommand("bench", "benchmarks (tables on stdout, --json FILE for JSON)");
  bench->require_subcommand(1);

  auto model = std::make_shared<bench::ModelBenchOptions>();
  CLI::App* model_cmd = bench->add_subcommand("model", "load time, forward time and generation tokens/s");
  model_cmd->add_option("MODEL", model->model, "model directory");
  model_cmd->add_option("--random-params", model->random_parameters,
                        "benchmark a random Llama of about this many parameters instead (e.g. 100000000)");
  model_cmd->add_option("--device", model->device, "cpu or cuda[:N]")->capture_default_str();
  model_cmd->add_option("--dtype", model->dtype, "float32, bfloat16 or float16")->capture_default_str();
  model_cmd->add_option("--tokens", model->prompt_tokens, "prompt length for the forward pass")->capture_default_str();
  model_cmd->add_option("--new-tokens", model->new_tokens, "tokens to generate")->capture_default_str();
  model_cmd->add_option("--repetitions", model->repetitions, "best of this many runs")->capture_default_str();
  model_cmd->add_option("--json", model->json_path, "write the results as JSON");
  model_cmd->callback([model, &action] { action = [model] { return bench::run_model_benchmark(*model); }; });
}

}  // namespace lincat::cli
