// lincat generate MODEL (--prompt TEXT | --ids 1,2,3): streams new text to stdout, speed to stderr.
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/flags.h"
#include "lincat/generate/generate.h"
#include "lincat/io/tokenizer.h"
#include "lincat/model/decoder.h"
#include "lincat/util/error.h"
#include "lincat/util/threads.h"

namespace lincat::cli {
namespace {

struct GenerateFlags {
  ModelFlags model;
  std::string prompt;
  std::string ids;
  GenerationOptions generation;
  bool print_ids = false;
};

// Prints the text of the tokens generated so far as it grows. Decoding the whole suffix each time
// (not token by token) keeps SentencePiece's spacing and multi-byte characters right. A model
// whose vocabulary is larger than its tokenizer's can emit ids with no text: they print as <id>.
class TextStreamer {
 public:
  explicit TextStreamer(const io::Tokenizer& tokenizer) : tokenizer_(tokenizer) {}
  void add(int64_t id) {
    if (id >= tokenizer_.vocab_size()) {
      std::cout << "<" << id << ">" << std::flush;
      ids_.clear();
      printed_ = 0;
      return;
    }
    ids_.push_back(id);
    const std::string text = tokenizer_.decode(ids_);
    if (text.size() > printed_ && text.compare(0, printed_, text, 0, printed_) == 0) {
      std::cout << text.substr(printed_) << std::flush;
      printed_ = text.size();
    }
  }

 private:
  const io::Tokenizer& tokenizer_;
  std::vector<int64_t> ids_;
  size_t printed_ = 0;
};

int run_generate(const GenerateFlags& flags) {
  if (flags.prompt.empty() == flags.ids.empty()) throw UserError("give exactly one of --prompt and --ids");
  validate(flags.generation.sampling);
  if (flags.generation.max_new_tokens < 0) throw UserError("--max-new-tokens must be >= 0");
  const auto model = load_model(flags.model.directory, flags.model.load_options());
  use_threads_for(model->config.hidden_size, 1);  // the decode steps, one token per call, dominate

  const std::string tokenizer_path = io::Tokenizer::find_in(flags.model.directory);
  std::unique_ptr<io::Tokenizer> tokenizer;
  if (!tokenizer_path.empty()) tokenizer = io::Tokenizer::load(tokenizer_path);

  std::vector<int64_t> prompt;
  if (!flags.ids.empty()) {
    prompt = parse_id_list(flags.ids, "--ids");
    check_token_ids(*model, prompt, "--ids");
  } else {
    if (!tokenizer) {
      throw UserError("--prompt needs " + flags.model.directory + "/tokenizer.json or tokenizer.model; give --ids instead");
    }
    prompt = tokenizer->special_prefix();  // BOS where the tokenizer puts one (Hugging Face's tokenizer(prompt))
    const std::vector<int64_t> text_ids = tokenizer->encode(flags.prompt);
    prompt.insert(prompt.end(), text_ids.begin(), text_ids.end());
    check_token_ids(*model, prompt, "--prompt (tokenizer and model disagree on the vocabulary)");
  }

  if (tokenizer && tokenizer->vocab_size() < model->config.vocab_size) {
    std::cerr << "warning: " << tokenizer_path << " has " << tokenizer->vocab_size() << " pieces, the model "
              << model->config.vocab_size << "; ids without a piece print as <id>\n";
  }
  std::unique_ptr<TextStreamer> streamer;
  if (tokenizer) streamer = std::make_unique<TextStreamer>(*tokenizer);
  GenerationOptions generation = flags.generation;
  generation.mode = flags.model.mode(*model);
  const GenerationResult result = generate(*model, prompt, generation, [&](int64_t id) {
    if (streamer) streamer->add(id);
  });
  if (streamer) std::cout << "\n";
  if (flags.print_ids || !tokenizer) {
    for (size_t i = 0; i < result.new_ids.size(); ++i) std::cout << (i ? " " : "") << result.new_ids[i];
    std::cout << "\n";
  }
  const double prefill_rate = static_cast<double>(prompt.size()) / std::max(result.prefill_seconds, 1e-9);
  const double decode_steps = static_cast<double>(std::max<size_t>(result.new_ids.size(), 1) - 1);
  std::cerr << "prefill: " << prompt.size() << " tokens, " << prefill_rate << " tokens/s; decode: "
            << result.new_ids.size() << " tokens, "
            << (decode_steps > 0 ? decode_steps / std::max(result.decode_seconds, 1e-9) : 0.0) << " tokens/s"
            << (result.stopped_at_eos ? " (stopped at eos)" : "") << "; state " << result.state_bytes
            << " bytes\n";
  return 0;
}

}  // namespace

void add_generate_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<GenerateFlags>();
  CLI::App* command = app.add_subcommand("generate", "generate text (or token ids) from a prompt");
  flags->model.add_to(*command);
  flags->model.add_attention_to(*command);
  command->add_option("--prompt", flags->prompt,
                      "prompt text (needs tokenizer.json or tokenizer.model; BOS as the tokenizer adds it)");
  command->add_option("--ids", flags->ids, "prompt as comma-separated token ids (no BOS is added)");
  command->add_option("--max-new-tokens", flags->generation.max_new_tokens, "tokens to generate")
      ->capture_default_str();
  command->add_option("--temperature", flags->generation.sampling.temperature, "0 = greedy")
      ->capture_default_str();
  command->add_option("--top-k", flags->generation.sampling.top_k, "keep the k most likely tokens (0 = all)")
      ->capture_default_str();
  command->add_option("--top-p", flags->generation.sampling.top_p, "nucleus sampling mass")->capture_default_str();
  command->add_option("--seed", flags->generation.sampling.seed, "random seed for sampling")->capture_default_str();
  command->add_flag("--print-ids", flags->print_ids, "print the new token ids as the last line of stdout");
  command->callback([flags, &action] { action = [flags] { return run_generate(*flags); }; });
}

}  // namespace lincat::cli
