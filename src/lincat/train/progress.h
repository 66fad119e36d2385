// Training progress on stderr: a bar redrawn in place on a terminal, plain periodic lines when
// stderr is a file or a pipe.
#pragma once
#include <chrono>
#include <cstdint>
#include <ostream>

namespace lincat::train {

class Progress {
 public:
  explicit Progress(std::ostream& out, bool terminal);
  // After step `step` (1-based) of `total` in `stage`.
  void update(int stage, int64_t step, int64_t total, double loss, double tokens_per_second, double seconds_left);
  void finish_stage();  // ends the terminal line

 private:
  std::ostream& out_;
  bool terminal_;
  std::chrono::steady_clock::time_point last_line_;
  bool drawn_ = false;
};

// Whether stderr is a terminal.
bool stderr_is_terminal();

}  // namespace lincat::train
