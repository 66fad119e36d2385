// Hugging Face tokenizer.json: the pipeline of Hugging Face's tokenizers (added tokens,
// normaliser, pre-tokeniser, BPE model, post-processor; decoder for the way back) for the files
// Llama-2/3/3.1 and Mistral checkpoints ship. Components are in io/hf/; anything else a file
// names is refused by name. tokenizer_config.json, when given, supplies bos/eos and, for the
// Llama tokenizer classes, add_bos_token / add_eos_token (as transformers applies them).
#pragma once
#include <memory>
#include <string>

#include "lincat/io/tokenizer.h"

namespace lincat::io {

std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& json_path, const std::string& config_path);

// tokenizer_config.json in the directory of `tokenizer_file`, or "" when there is none.
std::string sibling_config(const std::string& tokenizer_file);

// Whether the config's add_bos_token / add_eos_token ask for BOS / EOS (the defaults when the
// config is absent or silent).
struct AddedSpecialTokens {
  bool bos, eos;
};
AddedSpecialTokens added_special_tokens(const std::string& config_path, bool default_bos, bool default_eos);

// UserError naming `path` unless 0 <= id < vocab_size.
void check_id(int64_t id, int64_t vocab_size, const std::string& path);

}  // namespace lincat::io
