#include "lincat/util/threads.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <ostream>
#include <string>
#include <thread>

#include "lincat/util/error.h"

namespace lincat {
namespace {

std::ostream* thread_report = nullptr;

// libtorch's thread count does not reach OpenBLAS (Debian's libtorch uses it for every matrix
// product), whose own pool would otherwise keep one thread per core and, around the many small
// products of a batched matmul, wake them for each. Set where the process has OpenBLAS.
void set_threads_everywhere(int threads) {
  at::set_num_threads(threads);
  using SetThreads = void (*)(int);
  static const auto openblas_set_num_threads =
      reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (openblas_set_num_threads) openblas_set_num_threads(threads);
}

int cores() { return std::max(1, static_cast<int>(std::thread::hardware_concurrency())); }

// $LINCAT_THREADS, if set.
std::optional<int> threads_from_environment() {
  const char* env = std::getenv("LINCAT_THREADS");
  if (env == nullptr) return std::nullopt;
  char* end = nullptr;
  const long n = std::strtol(env, &end, 10);
  if (*env == '\0' || *end != '\0' || n < 1 || n > 4096) {
    throw UserError(std::string("LINCAT_THREADS='") + env + "': expected a positive integer");
  }
  return static_cast<int>(n);
}

}  // namespace

void restart_with_passive_openmp_waits(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  if (::setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0) return;
  ::execv("/proc/self/exe", argv);
  ::unsetenv("OMP_WAIT_POLICY");  // the exec failed: the waits are what libgomp loaded with
}

int configure_threads() {
  const int threads = threads_from_environment().value_or(cores());
  set_threads_everywhere(threads);
  return threads;
}

void set_threads(int threads) { set_threads_everywhere(threads < 1 ? 1 : threads); }

int threads_for_work(int64_t width, int64_t tokens_per_call) {
  const int64_t work = std::max<int64_t>(1, width) * std::max<int64_t>(1, tokens_per_call);
  // Rounded to the nearest: a 100M model scoring 128 tokens per call (1.5 units) ran 10-25% faster
  // on 2 threads than on 1 (scripts/bench_threads.py, 2026-12-02).
  return static_cast<int>(std::clamp<int64_t>((work + kWorkPerThread / 2) / kWorkPerThread, 1, cores()));
}

int use_threads_for(int64_t width, int64_t tokens_per_call) {
  const std::optional<int> forced = threads_from_environment();
  const int threads = forced.value_or(threads_for_work(width, tokens_per_call));
  set_threads_everywhere(threads);
  if (thread_report) {
    const char* waits = std::getenv("OMP_WAIT_POLICY");
    *thread_report << "OpenMP waits: " << (waits ? waits : "libgomp's default (spinning)") << "\n";
    *thread_report << "threads: " << threads;
    if (forced) {
      *thread_report << " (LINCAT_THREADS)\n";
    } else {
      *thread_report << " of " << cores() << " cores, for width " << width << " x " << tokens_per_call
                     << " tokens per call (one per " << kWorkPerThread << "; LINCAT_THREADS overrides)\n";
    }
  }
  return threads;
}

void report_thread_choice(std::ostream* out) { thread_report = out; }

}  // namespace lincat
