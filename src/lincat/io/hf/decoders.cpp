// tokenizer.json decoders: ByteLevel, Metaspace, and Sequence of Replace, ByteFallback, Fuse, Strip.
// Each works on the list of token strings, as in Hugging Face's tokenizers (decode_chain).
#include "lincat/io/hf/components.h"
#include "lincat/io/hf/text.h"
#include "lincat/util/error.h"

namespace lincat::io::hf {
namespace {

class SequenceDecoder : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> parts) : parts_(std::move(parts)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (const auto& part : parts_) part->decode_chain(tokens);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> parts_;
};

// Byte-level characters back to bytes; a token with any character outside the alphabet (an
// added token, say) keeps its own bytes. All tokens become one string.
class ByteLevelDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string bytes;
    for (const std::string& token : tokens) {
      std::string mapped;
      bool all_mapped = true;
      for (size_t at = 0; at < token.size() && all_mapped;) {
        const int byte = byte_of_byte_level_char(next_code_point(token, at));
        all_mapped = byte >= 0;
        mapped += static_cast<char>(byte);
      }
      bytes += all_mapped ? mapped : token;
    }
    tokens.assign(1, lossy_utf8(bytes));
  }
};

class ReplaceDecoder : public Decoder {
 public:
  ReplaceDecoder(Regex pattern, std::string content) : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (std::string& token : tokens) replace_all(pattern_, content_, token);
  }

 private:
  Regex pattern_;
  std::string content_;
};

// Runs of <0xXX> tokens become the text their bytes spell, or one U+FFFD per byte if invalid.
class ByteFallbackDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    std::string pending;
    size_t pending_count = 0;
    auto flush = [&] {
      if (pending_count == 0) return;
      if (invalid_utf8_at(pending) == std::string::npos) {
        out.push_back(pending);
      } else {
        for (size_t i = 0; i < pending_count; ++i) out.emplace_back("\xEF\xBF\xBD");
      }
      pending.clear();
      pending_count = 0;
    };
    for (std::string& token : tokens) {
      const int byte = byte_token_value(token);
      if (byte >= 0) {
        pending += static_cast<char>(byte);
        ++pending_count;
        continue;
      }
      flush();
      out.push_back(std::move(token));
    }
    flush();
    tokens = std::move(out);
  }

 private:
  static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  static int byte_token_value(const std::string& token) {
    if (token.size() != 6 || token.compare(0, 3, "<0x") != 0 || token[5] != '>') return -1;
    const int high = hex_digit(token[3]), low = hex_digit(token[4]);
    return high < 0 || low < 0 ? -1 : high * 16 + low;
  }
};

class FuseDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string joined;
    for (const std::string& token : tokens) joined += token;
    tokens.assign(1, joined);
  }
};

// Removes up to `start` leading and `stop` trailing copies of one character from each token.
class StripDecoder : public Decoder {
 public:
  StripDecoder(std::string content, size_t start, size_t stop) : content_(std::move(content)), start_(start), stop_(stop) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    const size_t width = content_.size();
    for (std::string& token : tokens) {
      size_t begin = 0;
      for (size_t i = 0; i < start_ && token.compare(begin, width, content_) == 0 && begin + width <= token.size(); ++i) {
        begin += width;
      }
      size_t end = token.size();
      for (size_t i = 0; i < stop_ && end >= begin + width && token.compare(end - width, width, content_) == 0; ++i) {
        end -= width;
      }
      token = token.substr(begin, end - begin);
    }
  }

 private:
  std::string content_;
  size_t start_, stop_;
};

// The replacement character becomes a space; in the first token it is dropped altogether
// unless the pre-tokenizer never prepends it.
class MetaspaceDecoder : public Decoder {
 public:
  MetaspaceDecoder(std::string replacement, bool drop_in_first) : replacement_(std::move(replacement)), drop_in_first_(drop_in_first) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string out;
      const std::string& token = tokens[i];
      for (size_t at = 0; at < token.size();) {
        if (token.compare(at, replacement_.size(), replacement_) == 0) {
          if (!(i == 0 && drop_in_first_)) out += ' ';
          at += replacement_.size();
        } else {
          out += token[at++];
        }
      }
      tokens[i] = std::move(out);
    }
  }

 private:
  std::string replacement_;
  bool drop_in_first_;
};

size_t count_field(const Json& config, const char* key, const std::string& where) {
  const Json& value = require(config, key, where);
  if (!value.is_number_unsigned()) throw UserError(where + "." + key + ": expected a non-negative integer");
  return value.get<size_t>();
}

}  // namespace

void replace_all(const Regex& pattern, const std::string& content, std::string& text) {
  const auto matches = pattern.find_all(text);
  if (matches.empty()) return;
  std::string out;
  out.reserve(text.size());
  size_t previous = 0;
  for (const auto& [begin, end] : matches) {
    out.append(text, previous, begin - previous);
    out += content;
    previous = end;
  }
  out.append(text, previous, std::string::npos);
  text = std::move(out);
}

std::unique_ptr<Decoder> make_decoder(const Json& config, const std::string& where) {
  if (config.is_null()) return nullptr;
  const std::string type = type_of(config, where);
  if (type == "Sequence") {
    return std::make_unique<SequenceDecoder>(make_parts<Decoder>(config, "decoders", where, make_decoder));
  }
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "Replace") {
    return std::make_unique<ReplaceDecoder>(pattern_of(config, where), require_string(config, "content", where));
  }
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip") {
    const std::string content = require_string(config, "content", where);
    if (content.empty() || utf8_length(static_cast<unsigned char>(content[0])) != content.size()) {
      throw UserError(where + ".content: expected one character");
    }
    return std::make_unique<StripDecoder>(content, count_field(config, "start", where), count_field(config, "stop", where));
  }
  if (type == "Metaspace") {
    const std::string replacement = require_string(config, "replacement", where);
    const std::string scheme = optional_string(config, "prepend_scheme", "", where);
    const bool prepends = scheme.empty() ? optional_bool(config, "add_prefix_space", true, where) : scheme != "never";
    return std::make_unique<MetaspaceDecoder>(replacement, prepends);
  }
  refuse(where, "decoder", type, "Sequence, ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace");
}

}  // namespace lincat::io::hf
