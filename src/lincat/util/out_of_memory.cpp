#include "lincat/util/out_of_memory.h"

#include <c10/util/Exception.h>

#include <new>

#include "lincat/util/error.h"

namespace lincat {

bool is_out_of_memory(const std::exception& error) {
  if (dynamic_cast<const std::bad_alloc*>(&error) || dynamic_cast<const c10::OutOfMemoryError*>(&error)) return true;
  if (dynamic_cast<const c10::Error*>(&error) == nullptr) return false;
  const std::string text = error_text(error);
  // libtorch 1.13's CPU allocator says "can't allocate memory", 2.x's "not enough memory".
  for (const char* words : {"can't allocate memory", "not enough memory", "out of memory"}) {
    if (text.find(words) != std::string::npos) return true;
  }
  return false;
}

std::string error_text(const std::exception& error) {
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&error)) return c10_error->what_without_backtrace();
  return error.what();
}

void throw_out_of_memory(const std::string& phase, const std::exception& error, const std::string& advice) {
  std::string what = error_text(error);
  while (!what.empty() && (what.back() == '\n' || what.back() == ' ')) what.pop_back();
  throw UserError(phase + ": out of memory (" + what + "); " + advice);
}

}  // namespace lincat
