#include "lincat/io/hf_tokenizer.h"

#include <filesystem>

#include "lincat/io/hf/added_tokens.h"
#include "lincat/io/hf/bpe_model.h"
#include "lincat/io/hf/components.h"
#include "lincat/io/hf/text.h"
#include "lincat/io/hf_config.h"
#include "lincat/util/error.h"

namespace lincat::io {
namespace {

using hf::Json;

// A token as tokenizer_config.json writes it: "<s>" or {"content": "<s>", ...}.
std::string config_token(const Json& config, const char* key, const std::string& path) {
  const auto found = config.find(key);
  if (found == config.end() || found->is_null()) return "";
  if (found->is_string()) return found->get<std::string>();
  if (found->is_object()) return hf::require_string(*found, "content", path + ": " + key);
  throw UserError(path + ": " + key + ": expected a string or {\"content\": ...}");
}

class HfTokenizer : public Tokenizer {
 public:
  HfTokenizer(const std::string& path, const std::string& config_path)
      : model_(hf::require(root(path), "model", path + ": "), path) {
    path_ = path;
    const Json& json = root(path);
    normalizer_ = hf::make_normalizer(json.value("normalizer", Json()), path + ": normalizer");
    pre_tokenizer_ = hf::make_pre_tokenizer(json.value("pre_tokenizer", Json()), path + ": pre_tokenizer");
    decoder_ = hf::make_decoder(json.value("decoder", Json()), path + ": decoder");
    read_added_tokens(json, path);
    build_id_table(path);
    const hf::SpecialTokenFrame frame =
        hf::make_post_processor(json.value("post_processor", Json()), path + ": post_processor");
    special_prefix_ = frame.prefix;
    special_suffix_ = frame.suffix;
    for (int64_t id : special_prefix_) check_id(id, vocab_size(), path + ": post_processor");
    for (int64_t id : special_suffix_) check_id(id, vocab_size(), path + ": post_processor");
    root_.reset();
    if (!config_path.empty()) read_config(config_path);
    // Without a config naming it, BOS is the token the template puts first.
    if (bos_id_ < 0 && !special_prefix_.empty()) bos_id_ = special_prefix_.front();
  }

  std::vector<int64_t> encode(const std::string& text) const override {
    const size_t invalid = hf::invalid_utf8_at(text);
    if (invalid != std::string::npos) {
      throw UserError("tokenizer: the text is not valid UTF-8 (byte " + std::to_string(invalid) + ")");
    }
    std::vector<hf::Piece> pieces{{text, true, -1}};
    raw_tokens_.split(pieces);
    if (normalizer_) {
      for (hf::Piece& piece : pieces) {
        if (piece.id < 0) normalizer_->normalize(piece.text);
      }
    }
    normalized_tokens_.split(pieces);
    if (pre_tokenizer_) pre_tokenizer_->pre_tokenize(pieces);
    std::vector<int64_t> ids;
    ids.reserve(text.size() / 3);
    for (const hf::Piece& piece : pieces) {
      if (piece.id >= 0) {
        ids.push_back(piece.id);
      } else {
        model_.tokenize(piece.text, ids);
      }
    }
    return ids;
  }

  std::string decode(const std::vector<int64_t>& ids, bool skip_special) const override {
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (int64_t id : ids) {
      check_id(id, vocab_size(), path_);
      if (skip_special && is_special_[id]) continue;
      tokens.push_back(tokens_[id]);
    }
    if (!decoder_) {  // Hugging Face joins the tokens with spaces when there is no decoder
      std::string joined;
      for (size_t i = 0; i < tokens.size(); ++i) joined += (i ? " " : "") + tokens[i];
      return joined;
    }
    decoder_->decode_chain(tokens);
    std::string out;
    for (const std::string& token : tokens) out += token;
    return out;
  }

  std::string piece(int64_t id) const override {
    check_id(id, vocab_size(), path_);
    return tokens_[id];
  }
  int64_t vocab_size() const override { return static_cast<int64_t>(tokens_.size()); }
  int64_t bos_id() const override { return bos_id_; }
  int64_t eos_id() const override { return eos_id_; }
  std::string describe() const override {
    return "tokenizer.json (BPE, " + std::to_string(vocab_size()) + " tokens, " + std::to_string(added_.size()) +
           " added)";
  }

 private:
  // The parsed file, kept only while the constructor runs.
  const Json& root(const std::string& path) {
    if (!root_) {
      root_ = std::make_unique<Json>(read_json_file(path));
      if (!root_->is_object()) throw UserError(path + ": expected a JSON object at the top level");
      const std::string type = hf::optional_string(hf::require(*root_, "model", path + ": "), "type", "BPE", path + ": model");
      if (type != "BPE") hf::refuse(path + ": model", "model", type, "BPE");
    }
    return *root_;
  }

  void read_added_tokens(const Json& json, const std::string& path) {
    const Json added = json.value("added_tokens", Json::array());
    if (!added.is_array()) throw UserError(path + ": added_tokens: expected a list");
    for (size_t i = 0; i < added.size(); ++i) {
      hf::AddedToken token = hf::parse_added_token(added[i], path + ": added_tokens[" + std::to_string(i) + "]");
      if (token.normalized) {
        std::string match_text = token.content;
        if (normalizer_) normalizer_->normalize(match_text);
        normalized_tokens_.add(token, match_text);
      } else {
        raw_tokens_.add(token, token.content);
      }
      added_.push_back(std::move(token));
    }
  }

  // id -> token text: the model's vocabulary, overridden by the added tokens.
  void build_id_table(const std::string& path) {
    int64_t size = 0;
    for (const auto& [token, id] : model_.vocabulary()) size = std::max<int64_t>(size, id + 1);
    for (const hf::AddedToken& token : added_) size = std::max<int64_t>(size, token.id + 1);
    tokens_.assign(size, "");
    is_special_.assign(size, false);
    std::vector<bool> present(size, false);
    for (const auto& [token, id] : model_.vocabulary()) tokens_[id] = token, present[id] = true;
    std::vector<bool> added_seen(size, false);
    for (const hf::AddedToken& token : added_) {
      if (added_seen[token.id]) {
        throw UserError(path + ": added_tokens: id " + std::to_string(token.id) + " is given to two tokens");
      }
      added_seen[token.id] = true;
      tokens_[token.id] = token.content, present[token.id] = true;
      is_special_[token.id] = token.special;
    }
    for (int64_t id = 0; id < size; ++id) {
      if (!present[id]) {
        throw UserError(path + ": model.vocab: id " + std::to_string(id) + " has no token (ids must run from 0 to " +
                        std::to_string(size - 1) + " without gaps)");
      }
    }
  }

  int64_t id_of(const std::string& token) const {
    for (const hf::AddedToken& added : added_) {
      if (added.content == token) return added.id;
    }
    return model_.id_of(token).value_or(-1);
  }

  void read_config(const std::string& config_path) {
    const Json config = read_json_file(config_path);
    if (!config.is_object()) throw UserError(config_path + ": expected a JSON object");
    for (auto [key, target] : {std::pair<const char*, int64_t*>{"bos_token", &bos_id_}, {"eos_token", &eos_id_}}) {
      const std::string token = config_token(config, key, config_path);
      if (token.empty()) continue;
      *target = id_of(token);
      if (*target < 0) throw UserError(config_path + ": " + key + " \"" + token + "\" is not in the vocabulary");
    }
    // transformers' Llama tokenizer classes rebuild the post-processor from these two flags.
    std::string type = config.value("tokenizer_class", std::string());
    if (type.size() > 4 && type.compare(type.size() - 4, 4, "Fast") == 0) type.resize(type.size() - 4);
    if (type == "LlamaTokenizer" || type == "CodeLlamaTokenizer" || type == "GemmaTokenizer") {
      const AddedSpecialTokens added = added_special_tokens(config_path, true, false);
      special_prefix_.clear();
      special_suffix_.clear();
      if (added.bos && bos_id_ >= 0) special_prefix_.push_back(bos_id_);
      if (added.eos && eos_id_ >= 0) special_suffix_.push_back(eos_id_);
    }
  }

  std::unique_ptr<Json> root_;
  hf::BpeModel model_;
  std::unique_ptr<hf::Normalizer> normalizer_;
  std::unique_ptr<hf::PreTokenizer> pre_tokenizer_;
  std::unique_ptr<hf::Decoder> decoder_;
  std::vector<hf::AddedToken> added_;
  hf::AddedTokenMatcher raw_tokens_, normalized_tokens_;
  std::vector<std::string> tokens_;
  std::vector<bool> is_special_;
  int64_t bos_id_ = -1, eos_id_ = -1;
};

}  // namespace

std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& json_path, const std::string& config_path) {
  auto tokenizer = std::make_unique<HfTokenizer>(json_path, config_path);
  return tokenizer;
}

std::string sibling_config(const std::string& tokenizer_file) {
  const auto candidate = std::filesystem::path(tokenizer_file).parent_path() / "tokenizer_config.json";
  return std::filesystem::is_regular_file(candidate) ? candidate.string() : "";
}

AddedSpecialTokens added_special_tokens(const std::string& config_path, bool default_bos, bool default_eos) {
  AddedSpecialTokens added{default_bos, default_eos};
  if (config_path.empty()) return added;
  const Json config = read_json_file(config_path);
  added.bos = hf::optional_bool(config, "add_bos_token", default_bos, config_path);
  added.eos = hf::optional_bool(config, "add_eos_token", default_eos, config_path);
  return added;
}

void check_id(int64_t id, int64_t vocab_size, const std::string& path) {
  if (id < 0 || id >= vocab_size) {
    throw UserError(path + ": token id " + std::to_string(id) + " is outside the vocabulary (0.." +
                    std::to_string(vocab_size - 1) + ")");
  }
}

}  // namespace lincat::io
