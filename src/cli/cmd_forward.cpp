// lincat forward MODEL --ids 1,2,3 --out FILE.safetensors: logits for exactly the given ids.
#include "cli/commands.h"
#include "cli/flags.h"
#include "lincat/io/tensor_io.h"
#include "lincat/model/decoder.h"
#include "lincat/util/error.h"
#include "lincat/util/threads.h"

namespace lincat::cli {
namespace {

struct ForwardFlags {
  ModelFlags model;
  std::string ids;
  std::string out;
};

int run_forward(const ForwardFlags& flags) {
  const std::vector<int64_t> ids = parse_id_list(flags.ids, "--ids");
  const auto model = load_model(flags.model.directory, flags.model.load_options());
  use_threads_for(model->config.hidden_size, static_cast<int64_t>(ids.size()));
  const attention::Mode mode = flags.model.mode(*model);
  check_token_ids(*model, ids, "--ids");
  torch::NoGradGuard no_grad;
  const at::Tensor input = torch::tensor(ids, torch::kInt64).unsqueeze(0);  // [1, T]
  const at::Tensor logits = forward(*model, input, mode)[0];                      // [T, V] float32
  io::save_safetensors(flags.out, {{"logits", logits}});
  return 0;
}

}  // namespace

void add_forward_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<ForwardFlags>();
  CLI::App* command = app.add_subcommand("forward", "write the logits [T, vocab] for given token ids");
  flags->model.add_to(*command);
  flags->model.add_attention_to(*command);
  command->add_option("--ids", flags->ids, "comma-separated token ids (no BOS is added)")->required();
  command->add_option("--out", flags->out, "output .safetensors file (tensor 'logits', F32)")->required();
  command->callback([flags, &action] { action = [flags] { return run_forward(*flags); }; });
}

}  // namespace lincat::cli
