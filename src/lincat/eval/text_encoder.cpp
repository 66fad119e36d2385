#include "lincat/eval/text_encoder.h"

#include "lincat/util/error.h"
#include "lincat/util/name_table.h"

namespace lincat::eval {

int64_t bos_token(const io::Tokenizer& tokenizer, const Model& model) {
  if (tokenizer.bos_id() >= 0) return tokenizer.bos_id();
  return model.config.bos_token_id.value_or(-1);
}

namespace {

const util::NameTable<AddBos>& add_bos_table() {
  static const util::NameTable<AddBos> table = {{AddBos::Auto, "auto"}, {AddBos::Yes, "yes"}, {AddBos::No, "no"}};
  return table;
}

}  // namespace

std::string add_bos_name(AddBos add_bos) { return util::name_of(add_bos_table(), add_bos); }

AddBos parse_add_bos(const std::string& value) {
  for (const auto& [add_bos, name] : add_bos_table()) {
    if (name == value) return add_bos;
  }
  throw SettingError("add_bos", " '" + value + "': expected auto, yes or no");
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

std::string tokenizer_path(const std::string& given, const Model& model) {
  if (!given.empty()) return given;
  const std::string path = io::Tokenizer::find_in(model.directory);
  if (path.empty()) {
    throw SettingError("tokenizer", ": none given, and " + model.directory + " has no tokenizer.json or tokenizer.model");
  }
  return path;
}

}  // namespace lincat::eval
