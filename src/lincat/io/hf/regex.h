// A compiled PCRE2 pattern (UTF + UCP, JIT when the library has it): the Unicode-aware regex
// behind tokenizer.json's Split pre-tokenizer and Replace normalizer. Texts handed to it must
// be valid UTF-8 (the tokenizer checks once, up front).
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace lincat::io::hf {

class Regex {
 public:
  // UserError naming `where` (e.g. "tokenizer.json: pre_tokenizer.pattern.Regex") if it does not compile.
  Regex(const std::string& pattern, const std::string& where);
  // A pattern matching `literal` exactly.
  static Regex literal(const std::string& literal, const std::string& where);
  ~Regex();
  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) = delete;
  Regex(const Regex&) = delete;

  // Every match, left to right, as [begin, end) byte offsets; an empty match advances one character.
  std::vector<std::pair<size_t, size_t>> find_all(const std::string& text) const;
  bool matches_at_start(const std::string& text) const;  // a match beginning at offset 0

 private:
  struct Compiled;
  std::unique_ptr<Compiled> compiled_;
  Regex();
};

}  // namespace lincat::io::hf
