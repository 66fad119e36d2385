// tokenizer.json's added tokens (special or not), found in the text before the model sees it:
// leftmost-longest matches, with the lstrip / rstrip / single_word rules of Hugging Face's
// tokenizers. Tokens with `normalized: false` are matched in the raw text, the others in the
// normalised text (their content normalised the same way).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "lincat/io/hf/components.h"

namespace lincat::io::hf {

struct AddedToken {
  std::string content;
  int64_t id = -1;
  bool special = false, lstrip = false, rstrip = false, single_word = false, normalized = true;
};

AddedToken parse_added_token(const Json& entry, const std::string& where);

// One set of tokens to find (all raw, or all normalised).
class AddedTokenMatcher {
 public:
  void add(const AddedToken& token, const std::string& match_text);
  bool empty() const { return tokens_.empty(); }
  // Cuts every free piece at the tokens found in it; found tokens become pieces with their id.
  void split(std::vector<Piece>& pieces) const;

 private:
  struct Candidate {
    std::string text;
    AddedToken token;
  };
  void split_piece(const Piece& piece, std::vector<Piece>& out) const;
  std::vector<Candidate> tokens_;
  std::array<std::vector<size_t>, 256> by_first_byte_;  // indices into tokens_, longest first
  Regex word_character_{"^\\w", "added token word check"};
};

}  // namespace lincat::io::hf
