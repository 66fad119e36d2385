#include "lincat/train/interrupt.h"

#include <csignal>

namespace lincat::train {
namespace {

volatile std::sig_atomic_t received_signal = 0;
struct sigaction previous_int, previous_term;

void on_signal(int number) {
  received_signal = number;
  std::signal(number, SIG_DFL);  // a second signal ends the process
}

}  // namespace

InterruptGuard::InterruptGuard() {
  received_signal = 0;
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &previous_int);
  sigaction(SIGTERM, &action, &previous_term);
}

InterruptGuard::~InterruptGuard() {
  sigaction(SIGINT, &previous_int, nullptr);
  sigaction(SIGTERM, &previous_term, nullptr);
}

bool InterruptGuard::requested() { return received_signal != 0; }
int InterruptGuard::signal_number() { return received_signal; }

}  // namespace lincat::train
