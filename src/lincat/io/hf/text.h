// UTF-8 and byte-level helpers shared by the tokenizer.json components.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace lincat::io::hf {

// The offset of the first byte that is not part of valid UTF-8 (overlong forms, surrogates and
// code points above U+10FFFF are invalid), or std::string::npos when all of `text` is valid.
size_t invalid_utf8_at(const std::string& text);

// Length in bytes of the UTF-8 character that starts with `lead` (1 for a stray byte).
size_t utf8_length(unsigned char lead);

// The code point at `at` in valid UTF-8 (advances `at` past it).
char32_t next_code_point(const std::string& text, size_t& at);
std::string utf8_encode(char32_t code_point);

bool is_unicode_whitespace(char32_t c);  // Unicode White_Space, as Rust's char::is_whitespace

// GPT-2's byte-level alphabet: each byte is shown as a printable character (printable ASCII and
// Latin-1 as themselves, the rest shifted to U+0100 and above).
const std::string& byte_level_char(unsigned char byte);
int byte_of_byte_level_char(char32_t c);  // -1 if `c` is not in the alphabet
std::string to_byte_level(const std::string& bytes);

}  // namespace lincat::io::hf

namespace lincat::io::hf {
// `bytes` as UTF-8, each maximal invalid subsequence replaced by U+FFFD (as Rust's
// String::from_utf8_lossy and the WHATWG decoder do).
std::string lossy_utf8(const std::string& bytes);
}  // namespace lincat::io::hf
