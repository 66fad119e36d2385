// The parts of a Hugging Face tokenizer.json pipeline: normalizers, pre-tokenizers, decoders and
// the post-processor. Each is built from its JSON object; `where` names the file and the field
// ("tokenizer.json: pre_tokenizer.pretokenizers[0]") in every error. Types lincat does not
// implement are refused by name (UserError), never approximated.
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lincat/io/hf/regex.h"
#include "lincat/util/error.h"

namespace lincat::io::hf {

using Json = nlohmann::json;

// A stretch of text on its way through the pipeline. `id` >= 0 marks an added token already
// recognised, which no later stage touches. `at_text_start`: the piece begins the original text
// (Metaspace's prepend_scheme "first" needs it).
struct Piece {
  std::string text;
  bool at_text_start = false;
  int64_t id = -1;
};

// Field access that names the field when it is missing or of the wrong kind.
const Json& require(const Json& object, const char* key, const std::string& where);
std::string require_string(const Json& object, const char* key, const std::string& where);
std::string optional_string(const Json& object, const char* key, const std::string& fallback,
                            const std::string& where);
bool optional_bool(const Json& object, const char* key, bool fallback, const std::string& where);
std::string type_of(const Json& component, const std::string& where);  // its "type"
// A {"String": s} or {"Regex": r} `pattern` field, as Replace and Split write it.
Regex pattern_of(const Json& owner, const std::string& where);
// Replaces every match of `pattern` in `text` by `content`.
void replace_all(const Regex& pattern, const std::string& content, std::string& text);
// The components listed under `key` (a Sequence's "normalizers", "pretokenizers", ...), each
// built by `make` with its place named ("...normalizers[2]"); null ones are left out.
template <typename Part, typename Make>
std::vector<std::unique_ptr<Part>> make_parts(const Json& config, const char* key, const std::string& where, Make make) {
  const Json& list = require(config, key, where);
  const std::string at = where + "." + key;
  if (!list.is_array()) throw UserError(at + ": expected a list");
  std::vector<std::unique_ptr<Part>> parts;
  for (size_t i = 0; i < list.size(); ++i) {
    auto part = make(list[i], at + "[" + std::to_string(i) + "]");
    if (part) parts.push_back(std::move(part));
  }
  return parts;
}
[[noreturn]] void refuse(const std::string& where, const std::string& kind, const std::string& type,
                         const std::string& supported);

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void normalize(std::string& text) const = 0;
};
std::unique_ptr<Normalizer> make_normalizer(const Json& config, const std::string& where);  // null for JSON null

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Splits (and may rewrite) every piece whose id is -1; pieces left empty are dropped.
  virtual void pre_tokenize(std::vector<Piece>& pieces) const = 0;
};
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const Json& config, const std::string& where);

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
};
std::unique_ptr<Decoder> make_decoder(const Json& config, const std::string& where);

// What the post-processor puts around a single sequence when special tokens are added.
struct SpecialTokenFrame {
  std::vector<int64_t> prefix;
  std::vector<int64_t> suffix;
};
SpecialTokenFrame make_post_processor(const Json& config, const std::string& where);

}  // namespace lincat::io::hf
