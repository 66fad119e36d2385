// Errors. A UserError is bad input from the user (a file, a setting, a value): the CLI prints
// "error: <message>" and exits with code 2. Anything else that escapes is an internal failure
// (exit 1). Messages name the file or setting and say what is wrong, expected versus found.
// The library speaks of settings, never of flags: a SettingError names its setting, and the CLI
// shows the flag that sets it instead (src/cli/main.cpp).
#pragma once
#include <stdexcept>
#include <string>

namespace lincat {

class UserError : public std::runtime_error {
 public:
  explicit UserError(const std::string& message) : std::runtime_error(message) {}
};

// A bad value of one named setting ("top_k"): the message is `setting` followed by `rest`
// ("top_k -1: expected at least 0").
class SettingError : public UserError {
 public:
  SettingError(const std::string& setting, const std::string& rest)
      : UserError(setting + rest), setting_(setting), rest_(rest) {}
  const std::string& setting() const { return setting_; }
  const std::string& rest() const { return rest_; }

 private:
  std::string setting_;
  std::string rest_;
};

}  // namespace lincat
