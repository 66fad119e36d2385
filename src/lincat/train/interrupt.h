// SIGINT/SIGTERM during training: the first one asks the loop to checkpoint and stop after the
// current step; a second one ends the process at once (the default action).
#pragma once

namespace lincat::train {

class InterruptGuard {
 public:
  InterruptGuard();   // installs the handlers
  ~InterruptGuard();  // restores the previous ones
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  static bool requested();
  static int signal_number();  // the signal that asked, 0 if none
};

}  // namespace lincat::train
