#include "lincat/util/line_stream.h"

namespace lincat {

LineBuffer::int_type LineBuffer::overflow(int_type c) {
  if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
  pending_.push_back(traits_type::to_char_type(c));
  if (pending_.back() == '\n') forward(false);
  return c;
}

std::streamsize LineBuffer::xsputn(const char* text, std::streamsize n) {
  pending_.append(text, static_cast<size_t>(n));
  forward(false);  // a block of lines written at once (a table) stays together
  return n;
}

int LineBuffer::sync() {
  forward(false);
  return 0;
}

void LineBuffer::forward(bool partial_line) {
  const size_t newline = pending_.rfind('\n');
  const size_t end = partial_line ? pending_.size() : newline == std::string::npos ? 0 : newline + 1;
  if (end == 0) return;
  const std::lock_guard<std::mutex> guard(lock_);
  target_.write(pending_.data(), static_cast<std::streamsize>(end));
  target_.flush();
  pending_.erase(0, end);
}

}  // namespace lincat
