#include "lincat/eval/text_encoder.h"

#include <filesystem>

#include "lincat/util/error.h"

namespace lincat::eval {

int64_t bos_token(const io::Tokenizer& tokenizer, const Model& model) {
  if (tokenizer.bos_id() >= 0) return tokenizer.bos_id();
  return model.config.bos_token_id.value_or(-1);
}

Encoder bos_encoder(const io::Tokenizer& tokenizer, const Model& model) {
  const int64_t bos = bos_token(tokenizer, model);
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
  const std::string path = (std::filesystem::path(model.directory) / "tokenizer.model").string();
  if (!std::filesystem::exists(path)) {
    throw UserError(model.directory + " has no tokenizer.model; pass one with --tokenizer FILE");
  }
  return path;
}

}  // namespace lincat::eval
