#include "lincat/train/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace lincat::train {
namespace {

std::string duration(double seconds) {
  const auto s = static_cast<int64_t>(std::max(0.0, seconds));
  char text[32];
  std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  return text;
}

constexpr double kPlainLineSeconds = 10;  // between plain lines when not on a terminal

}  // namespace

Progress::Progress(std::ostream& out, bool terminal)
    : out_(out), terminal_(terminal), last_line_(std::chrono::steady_clock::now()) {}

void Progress::update(int stage, int64_t step, int64_t total, double loss, double tokens_per_second,
                      double seconds_left) {
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_line_).count();
  if (!terminal_ && step != 1 && step != total && since < kPlainLineSeconds) return;
  last_line_ = now;
  char numbers[160];
  std::snprintf(numbers, sizeof numbers, "loss %.5g  %.0f tokens/s  %s left", loss, tokens_per_second,
                duration(seconds_left).c_str());
  const std::string stage_step =
      "stage " + std::to_string(stage) + " step " + std::to_string(step) + "/" + std::to_string(total);
  if (terminal_) {
    constexpr int kWidth = 24;
    const double fraction = total > 0 ? static_cast<double>(step) / static_cast<double>(total) : 1.0;
    const int filled = static_cast<int>(std::round(fraction * kWidth));
    out_ << "\r" << stage_step << " [" << std::string(static_cast<size_t>(filled), '#')
         << std::string(static_cast<size_t>(kWidth - filled), '.') << "] " << numbers << "   ";
    drawn_ = true;
  } else {
    out_ << stage_step << "  " << numbers << "\n";
  }
  out_.flush();
}

void Progress::finish_stage() {
  if (terminal_ && drawn_) out_ << "\n";
  drawn_ = false;
}

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

}  // namespace lincat::train
