// Helpers for tests that run `lincat` as two cooperating processes on loopback.
#pragma once
#include <string>
#include <utility>

#include "support/run_program.h"

namespace lincat::test {

// A port nothing listens on now (the kernel's pick for an ephemeral bind).
int free_port();

// Runs ranks 0 and 1 of `command` at once, with a 30 s --dist-timeout on a free loopback port;
// returns their results (rank 0 first).
std::pair<ProgramResult, ProgramResult> run_two_ranks(const std::string& command);

// Every tensor of safetensors file `b` equals `a`'s within 1e-4 relative, 1e-5 absolute (gtest
// failures naming the tensor and the largest difference).
void expect_close_safetensors(const std::string& a, const std::string& b);

}  // namespace lincat::test
