#include "support/run_program.h"

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "support/temp_dir.h"
#include "test_paths.h"

namespace lincat::test {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

ProgramResult run_lincat(const std::string& arguments) {
  TempDir dir;
  const std::string command = std::string(LINCAT_BINARY) + " " + arguments + " </dev/null >" +
                              dir.file("out") + " 2>" + dir.file("err");
  const int status = std::system(command.c_str());
  if (status == -1) throw std::runtime_error("cannot run " + command);
  ProgramResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = slurp(dir.file("out"));
  result.err = slurp(dir.file("err"));
  return result;
}

}  // namespace lincat::test
