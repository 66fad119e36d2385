#include "lincat/dist/settings.h"

#include <cstdlib>

#include "lincat/util/error.h"

namespace lincat::dist {
namespace {

// The integer in environment variable `name`, or `fallback` when it is unset or empty.
int env_int(const char* name, int fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (*end != '\0' || value < -1000000000L || value > 1000000000L) {
    throw UserError(std::string("environment variable ") + name + "='" + text + "': expected an integer");
  }
  return static_cast<int>(value);
}

}  // namespace

Settings settings_from_environment() {
  Settings s;
  s.world_size = env_int("WORLD_SIZE", s.world_size);
  s.rank = env_int("RANK", s.rank);
  s.local_rank = env_int("LOCAL_RANK", s.rank);
  if (const char* addr = std::getenv("MASTER_ADDR"); addr != nullptr && *addr != '\0') s.master_addr = addr;
  s.master_port = env_int("MASTER_PORT", s.master_port);
  return s;
}

void validate(const Settings& s) {
  if (s.world_size < 1) {
    throw SettingError("world_size", " (or WORLD_SIZE) " + std::to_string(s.world_size) + ": expected at least 1");
  }
  if (s.rank < 0 || s.rank >= s.world_size) {
    throw SettingError("rank", " (or RANK) " + std::to_string(s.rank) + ": expected 0 to " +
                    std::to_string(s.world_size - 1) + " for a world size of " + std::to_string(s.world_size));
  }
  if (s.master_port < 1 || s.master_port > 65535) {
    throw SettingError("master_port", " (or MASTER_PORT) " + std::to_string(s.master_port) + ": expected 1 to 65535");
  }
  if (!(s.timeout_seconds > 0)) {
    throw SettingError("dist_timeout", " " + std::to_string(s.timeout_seconds) + ": expected a positive number of seconds");
  }
  if (s.master_addr.empty()) throw SettingError("master_addr", " (or MASTER_ADDR): empty address");
}

}  // namespace lincat::dist
