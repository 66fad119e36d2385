#include "lincat/io/hf/added_tokens.h"

#include <algorithm>

#include "lincat/io/hf/text.h"
#include "lincat/util/error.h"

namespace lincat::io::hf {

AddedToken parse_added_token(const Json& entry, const std::string& where) {
  AddedToken token;
  token.content = require_string(entry, "content", where);
  const Json& id = require(entry, "id", where);
  if (!id.is_number_unsigned()) throw UserError(where + ".id: expected a non-negative integer, found " + id.dump());
  token.id = id.get<int64_t>();
  token.special = optional_bool(entry, "special", false, where);
  token.lstrip = optional_bool(entry, "lstrip", false, where);
  token.rstrip = optional_bool(entry, "rstrip", false, where);
  token.single_word = optional_bool(entry, "single_word", false, where);
  token.normalized = optional_bool(entry, "normalized", !token.special, where);
  return token;
}

void AddedTokenMatcher::add(const AddedToken& token, const std::string& match_text) {
  if (match_text.empty()) return;
  tokens_.push_back({match_text, token});
  auto& bucket = by_first_byte_[static_cast<unsigned char>(match_text[0])];
  bucket.push_back(tokens_.size() - 1);
  std::stable_sort(bucket.begin(), bucket.end(),
                   [&](size_t a, size_t b) { return tokens_[a].text.size() > tokens_[b].text.size(); });
}

namespace {

// The character that ends text[0, end) (empty at the start).
std::string character_before(const std::string& text, size_t end) {
  size_t begin = end;
  while (begin > 0) {
    --begin;
    if ((static_cast<unsigned char>(text[begin]) & 0xC0) != 0x80) break;
  }
  return text.substr(begin, end - begin);
}

std::string character_at(const std::string& text, size_t at) {
  if (at >= text.size()) return {};
  return text.substr(at, std::min(utf8_length(static_cast<unsigned char>(text[at])), text.size() - at));
}

bool whitespace_at(const std::string& text, size_t at) {
  size_t next = at;
  return is_unicode_whitespace(next_code_point(text, next));
}

}  // namespace

void AddedTokenMatcher::split_piece(const Piece& piece, std::vector<Piece>& out) const {
  const std::string& text = piece.text;
  size_t consumed = 0;  // end of the last token taken
  auto emit_free = [&](size_t begin, size_t end) {
    if (end > begin) out.push_back({text.substr(begin, end - begin), piece.at_text_start && begin == 0, -1});
  };
  for (size_t at = 0; at < text.size();) {
    const Candidate* found = nullptr;
    for (size_t index : by_first_byte_[static_cast<unsigned char>(text[at])]) {
      const Candidate& c = tokens_[index];
      if (text.compare(at, c.text.size(), c.text) == 0) {
        found = &c;
        break;
      }
    }
    if (!found) {
      ++at;
      continue;
    }
    size_t begin = at, end = at + found->text.size();
    at = end;  // the next match is looked for after this one, taken or not
    if (found->token.single_word) {
      const bool word_before = begin > 0 && word_character_.matches_at_start(character_before(text, begin));
      const bool word_after = end < text.size() && word_character_.matches_at_start(character_at(text, end));
      if (word_before || word_after) continue;
    }
    if (found->token.lstrip) {
      size_t stripped = begin;
      while (stripped > consumed) {
        const size_t previous = stripped - character_before(text, stripped).size();
        if (!whitespace_at(text, previous)) break;
        stripped = previous;
      }
      begin = stripped;
    }
    if (found->token.rstrip) {
      while (end < text.size() && whitespace_at(text, end)) end += character_at(text, end).size();
      at = end;
    }
    emit_free(consumed, begin);
    out.push_back({text.substr(begin, end - begin), piece.at_text_start && begin == 0, found->token.id});
    consumed = end;
  }
  emit_free(consumed, text.size());
}

void AddedTokenMatcher::split(std::vector<Piece>& pieces) const {
  if (tokens_.empty()) return;
  std::vector<Piece> out;
  out.reserve(pieces.size());
  for (Piece& piece : pieces) {
    if (piece.id >= 0) {
      out.push_back(std::move(piece));
    } else {
      split_piece(piece, out);
    }
  }
  pieces = std::move(out);
}

}  // namespace lincat::io::hf
