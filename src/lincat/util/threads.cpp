#include "lincat/util/threads.h"

#include <cstdlib>
#include <thread>

#include "lincat/util/error.h"

namespace lincat {

int configure_threads() {
  int threads = static_cast<int>(std::thread::hardware_concurrency());
  if (const char* env = std::getenv("LINCAT_THREADS")) {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    if (*env == '\0' || *end != '\0' || n < 1 || n > 4096) {
      throw UserError(std::string("LINCAT_THREADS='") + env + "': expected a positive integer");
    }
    threads = static_cast<int>(n);
  }
  if (threads < 1) threads = 1;
  at::set_num_threads(threads);
  return threads;
}

void set_threads(int threads) { at::set_num_threads(threads < 1 ? 1 : threads); }

}  // namespace lincat
