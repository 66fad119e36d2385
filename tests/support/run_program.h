// Runs the built `lincat` program as a user would, capturing its exit code and output.
#pragma once
#include <string>

namespace lincat::test {

struct ProgramResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// `arguments` is appended to the program path as shell words (quote them yourself).
ProgramResult run_lincat(const std::string& arguments);

}  // namespace lincat::test
