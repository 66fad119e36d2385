// lincat random-model --out DIR: a Llama with random weights (for tests, benchmarks, experiments),
// of about N parameters, of a given config.json, or of a published model's shape.
#include <iostream>

#include "cli/commands.h"
#include "lincat/io/hf_config.h"
#include "lincat/io/tokenizer.h"
#include "lincat/model/model.h"
#include "lincat/model/random_model.h"
#include "lincat/util/error.h"
#include "lincat/util/memory.h"

namespace lincat::cli {
namespace {

struct RandomModelFlags {
  std::string out;
  int64_t parameters = 0;
  std::string config;
  std::string shape;
  std::string dtype = "float32";
  std::string shard_size = "5GB";
  std::string tokenizer;
  uint64_t seed = 0;
};

ModelConfig chosen_config(const RandomModelFlags& flags) {
  const int given = (flags.parameters > 0) + !flags.config.empty() + !flags.shape.empty();
  if (given != 1) throw UserError("give exactly one of --params, --config and --shape");
  if (flags.parameters > 0) return llama_config_of_size(flags.parameters);
  if (!flags.config.empty()) return io::load_model_config(flags.config);
  try {
    return named_model_config(flags.shape);
  } catch (const UserError& e) {
    throw UserError(std::string("--shape: ") + e.what());
  }
}

int run_random_model(const RandomModelFlags& flags) {
  const ModelConfig config = chosen_config(flags);
  RandomModelOptions options;
  options.dtype = parse_dtype(flags.dtype);
  if (options.dtype == at::ScalarType::Undefined) throw UserError("--dtype auto: random-model writes float32, bfloat16 or float16");
  options.max_shard_bytes = parse_byte_size(flags.shard_size, "--shard-size");
  const std::string tokenizer = flags.tokenizer.empty() ? "" : io::Tokenizer::resolve(flags.tokenizer);
  write_random_model(flags.out, config, flags.seed, options);
  if (!tokenizer.empty()) io::copy_tokenizer(tokenizer, flags.out);
  std::cout << flags.out << ": " << config.architecture << ", " << config.parameter_count() << " parameters in "
            << flags.dtype << "\n";
  return 0;
}

}  // namespace

void add_random_model_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<RandomModelFlags>();
  CLI::App* command = app.add_subcommand("random-model", "write a model directory with random weights");
  command->add_option("--out", flags->out, "output directory")->required();
  command->add_option("--params", flags->parameters, "about this many parameters (Llama proportions)");
  command->add_option("--config", flags->config, "or exactly this config.json");
  std::string shapes;
  for (const std::string& name : named_model_shapes()) shapes += (shapes.empty() ? "" : ", ") + name;
  command->add_option("--shape", flags->shape, "or a published model's shape: " + shapes);
  command->add_option("--dtype", flags->dtype, "weights' dtype: float32, bfloat16 or float16")->capture_default_str();
  command->add_option("--shard-size", flags->shard_size,
                      "largest weight file (5GB, 2GiB, ...); larger models are sharded with model.safetensors.index.json")
      ->capture_default_str();
  command->add_option("--tokenizer", flags->tokenizer, "tokenizer.json or tokenizer.model to copy into --out");
  command->add_option("--seed", flags->seed, "random seed")->capture_default_str();
  command->callback([flags, &action] { action = [flags] { return run_random_model(*flags); }; });
}

}  // namespace lincat::cli
