// Errors. A UserError is bad input from the user (a file, a flag, a value): the CLI prints
// "error: <message>" and exits with code 2. Anything else that escapes is an internal failure
// (exit 1). Messages name the file or flag and say what is wrong, expected versus found.
#pragma once
#include <stdexcept>
#include <string>

namespace lincat {

class UserError : public std::runtime_error {
 public:
  explicit UserError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace lincat
