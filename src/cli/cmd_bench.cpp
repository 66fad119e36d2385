// lincat bench ...: benchmarks that print a table and, with --json FILE, write JSON.
#include "bench/bench_attention.h"
#include "bench/bench_continuation.h"
#include "bench/bench_decode.h"
#include "bench/bench_model.h"
#include "bench/bench_train.h"
#include "cli/flags.h"
#include "lincat/util/error.h"
#include "cli/commands.h"

namespace lincat::cli {
namespace {

// MODEL, or --random-params: the model a benchmark runs on.
void add_model_flags(CLI::App& command, std::string& model, int64_t& random_parameters) {
  command.add_option("MODEL", model, "model directory");
  command.add_option("--random-params", random_parameters,
                     "without MODEL: a random Llama of about this many parameters (e.g. 100000000)")
      ->capture_default_str();
}

}  // namespace

void add_bench_command(CLI::App& app, Action& action) {
  CLI::App* bench = app.add_subcommand("bench", "benchmarks (tables on stdout, --json FILE for JSON)");
  bench->require_subcommand(1);

  auto model = std::make_shared<bench::ModelBenchOptions>();
  CLI::App* model_cmd = bench->add_subcommand("model", "load time, forward time and generation tokens/s");
  add_model_flags(*model_cmd, model->model, model->random_parameters);
  add_device_flags(*model_cmd, model->device, &model->dtype);
  model_cmd->add_option("--tokens", model->prompt_tokens, "prompt length for the forward pass")->capture_default_str();
  model_cmd->add_option("--new-tokens", model->new_tokens, "tokens to generate")->capture_default_str();
  add_repetitions_flag(*model_cmd, model->repetitions, "best of this many runs");
  add_json_flag(*model_cmd, model->json_path);
  model_cmd->callback([model, &action] { action = [model] { return bench::run_model_benchmark(*model); }; });

  auto continuation = std::make_shared<bench::ContinuationBenchOptions>();
  CLI::App* continuation_cmd = bench->add_subcommand(
      "continuation", "a decode state continued by T tokens: chunked form vs the recurrent kernel, per layer shape");
  add_repetitions_flag(*continuation_cmd, continuation->repetitions, "best of this many runs");
  add_json_flag(*continuation_cmd, continuation->json_path);
  continuation_cmd->callback([continuation, &action] {
    action = [continuation] { return bench::run_continuation_benchmark(*continuation); };
  });

  auto attention = std::make_shared<bench::AttentionBenchOptions>();
  CLI::App* attention_cmd =
      bench->add_subcommand("attention", "chunked hybrid attention vs dense softmax: time per token, GFLOP/s");
  attention_cmd->add_option("--min-length", attention->min_length, "shortest sequence")->capture_default_str();
  attention_cmd->add_option("--max-length", attention->max_length, "longest sequence (doubling from the shortest)")
      ->capture_default_str();
  add_repetitions_flag(*attention_cmd, attention->repetitions, "best of this many runs");
  attention_cmd->add_flag("--small-only", attention->small_shape_only, "only the small shape (a quick run)");
  add_json_flag(*attention_cmd, attention->json_path);
  attention_cmd->callback(
      [attention, &action] { action = [attention] { return bench::run_attention_benchmark(*attention); }; });

  auto decode = std::make_shared<bench::DecodeBenchOptions>();
  auto contexts = std::make_shared<std::string>("512,4096,32768");
  CLI::App* decode_cmd = bench->add_subcommand("decode", "decode ms/token and state bytes against context, per mode");
  decode_cmd->add_option("MODEL", decode->model, "model directory (a converted model for the hybrid modes)")->required();
  decode_cmd->add_option("--contexts", *contexts, "comma-separated context lengths")->capture_default_str();
  decode_cmd->add_option("--mode", decode->modes, "modes to measure (repeatable; default: all the model has)");
  decode_cmd->add_option("--steps", decode->steps, "decode steps timed per measurement")->capture_default_str();
  add_device_flags(*decode_cmd, decode->device, &decode->dtype);
  add_json_flag(*decode_cmd, decode->json_path);
  decode_cmd->callback([decode, contexts, &action] {
    action = [decode, contexts] {
      decode->contexts = parse_id_list(*contexts, "--contexts");
      return bench::run_decode_benchmark(*decode);
    };
  });

  add_eval_bench_command(*bench, action);
  add_tokenize_bench_command(*bench, action);

  auto train = std::make_shared<bench::TrainBenchOptions>();
  auto train_hybrid = std::make_shared<HybridFlags>();
  CLI::App* train_cmd = bench->add_subcommand("train", "stage-1 and stage-2 step cost against a teacher forward");
  add_model_flags(*train_cmd, train->model, train->random_parameters);
  train_cmd->add_option("--tokens", train->sequence_length, "sequence length")->capture_default_str();
  train_hybrid->add_to(*train_cmd);
  add_repetitions_flag(*train_cmd, train->repetitions, "best of this many steps");
  add_device_flags(*train_cmd, train->device, nullptr);
  add_json_flag(*train_cmd, train->json_path);
  train_cmd->callback([train, train_hybrid, &action] {
    action = [train, train_hybrid] {
      train->hybrid = train_hybrid->settings();
      return bench::run_train_benchmark(*train);
    };
  });
}

}  // namespace lincat::cli
