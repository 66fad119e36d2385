// Running out of memory is a property of the input (a model or a setting too large for the
// device), so it ends as a UserError (exit 2) that says where and what to change, not as an
// internal failure.
#pragma once
#include <exception>
#include <string>

namespace lincat {

// True for an allocation failure: c10::OutOfMemoryError (CUDA), libtorch's CPU allocator
// refusing ("can't allocate memory" in 1.13, "not enough memory" in 2.x), std::bad_alloc.
bool is_out_of_memory(const std::exception& error);

// The error's message without libtorch's backtrace.
std::string error_text(const std::exception& error);

// "<phase>: out of memory (<what failed>); <advice>" as a UserError.
[[noreturn]] void throw_out_of_memory(const std::string& phase, const std::exception& error, const std::string& advice);

}  // namespace lincat
