#include "lincat/eval/text_encoder.h"

#include "lincat/util/error.h"

namespace lincat::eval {

int64_t bos_token(const io::Tokenizer& tokenizer, const Model& model) {
  if (tokenizer.bos_id() >= 0) return tokenizer.bos_id();
  return model.config.bos_token_id.value_or(-1);
}

AddBos parse_add_bos(const std::string& flag_value) {
  if (flag_value == "auto") return AddBos::Auto;
  if (flag_value == "yes") return AddBos::Yes;
  if (flag_value == "no") return AddBos::No;
  throw UserError("--add-bos '" + flag_value + "': expected auto, yes or no");
}

bool adds_bos(AddBos add_bos, const io::Tokenizer& tokenizer, const Model& model) {
  if (add_bos == AddBos::No) return false;
  if (add_bos == AddBos::Auto && !tokenizer.adds_bos()) return false;
  return bos_token(tokenizer, model) >= 0;
}

Encoder bos_encoder(const io::Tokenizer& tokenizer, const Model& model, AddBos add_bos) {
  const int64_t bos = adds_bos(add_bos, tokenizer, model) ? bos_token(tokenizer, model) : -1;
  return [&tokenizer, bos](const std::string& text) {
    std::vector<int64_t> ids;
    if (bos >= 0) ids.push_back(bos);
    const std::vector<int64_t> body = tokenizer.encode(text);
    ids.insert(ids.end(), body.begin(), body.end());
    return ids;
  };
}

std::string tokenizer_path(const std::string& flag_value, const Model& model) {
  if (!flag_value.empty()) return flag_value;
  const std::string path = io::Tokenizer::find_in(model.directory);
  if (path.empty()) {
    throw UserError(model.directory + " has no tokenizer.json or tokenizer.model; pass one with --tokenizer PATH");
  }
  return path;
}

}  // namespace lincat::eval
