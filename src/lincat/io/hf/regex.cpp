#define PCRE2_CODE_UNIT_WIDTH 8
#include "lincat/io/hf/regex.h"

#include <pcre2.h>

#include "lincat/util/error.h"

namespace lincat::io::hf {

struct Regex::Compiled {
  pcre2_code* code = nullptr;
  bool jit = false;
  ~Compiled() {
    if (code) pcre2_code_free(code);
  }
};

Regex::Regex() : compiled_(std::make_unique<Compiled>()) {}
Regex::~Regex() = default;
Regex::Regex(Regex&&) noexcept = default;

Regex::Regex(const std::string& pattern, const std::string& where) : Regex() {
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  compiled_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                  PCRE2_UTF | PCRE2_UCP, &error_code, &error_offset, nullptr);
  if (!compiled_->code) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error_code, message, sizeof(message));
    throw UserError(where + ": the regex does not compile at offset " + std::to_string(error_offset) + " (" +
                    reinterpret_cast<const char*>(message) + ")");
  }
  // JIT is several times faster; without it (a library built without JIT) the interpreter is exact too.
  compiled_->jit = pcre2_jit_compile(compiled_->code, PCRE2_JIT_COMPLETE) == 0;
}

Regex Regex::literal(const std::string& literal, const std::string& where) {
  std::string quoted;
  for (char c : literal) {
    if (std::string("\\^$.|?*+()[]{}").find(c) != std::string::npos || c == '\0') {
      quoted += c == '\0' ? std::string("\\x{0}") : std::string("\\") + c;
    } else {
      quoted += c;
    }
  }
  return Regex(quoted, where);
}

namespace {

// One match of `code` in `text` at or after `start`; false when there is none.
bool match_from(const pcre2_code* code, bool jit, pcre2_match_data* data, const std::string& text, size_t start,
                std::pair<size_t, size_t>& found) {
  const auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  const int rc = jit ? pcre2_jit_match(code, subject, text.size(), start, 0, data, nullptr)
                     : pcre2_match(code, subject, text.size(), start, PCRE2_NO_UTF_CHECK, data, nullptr);
  if (rc == PCRE2_ERROR_NOMATCH) return false;
  if (rc < 0) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(rc, message, sizeof(message));
    throw UserError(std::string("tokenizer: regex matching failed (") + reinterpret_cast<const char*>(message) + ")");
  }
  const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data);
  found = {ovector[0], ovector[1]};
  return true;
}

struct MatchData {
  pcre2_match_data* data;
  explicit MatchData(const pcre2_code* code) : data(pcre2_match_data_create_from_pattern(code, nullptr)) {}
  ~MatchData() { pcre2_match_data_free(data); }
};

size_t next_character(const std::string& text, size_t at) {
  ++at;
  while (at < text.size() && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) ++at;
  return at;
}

}  // namespace

std::vector<std::pair<size_t, size_t>> Regex::find_all(const std::string& text) const {
  std::vector<std::pair<size_t, size_t>> matches;
  MatchData data(compiled_->code);
  size_t start = 0;
  std::pair<size_t, size_t> found;
  while (start <= text.size() && match_from(compiled_->code, compiled_->jit, data.data, text, start, found)) {
    matches.push_back(found);
    start = found.second > found.first ? found.second : next_character(text, found.second);
  }
  return matches;
}

bool Regex::matches_at_start(const std::string& text) const {
  MatchData data(compiled_->code);
  std::pair<size_t, size_t> found;
  return match_from(compiled_->code, compiled_->jit, data.data, text, 0, found) && found.first == 0;
}

}  // namespace lincat::io::hf
