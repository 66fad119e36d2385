#include "lincat/plan/device_memory.h"

#include <cstdio>
#include <memory>

#include "lincat/util/error.h"
#include "lincat/util/memory.h"

namespace lincat::plan {

bool is_cuda_device(const std::string& device) {
  if (device == "cpu") return false;
  if (device == "cuda") return true;
  if (device.rfind("cuda:", 0) == 0 && device.size() > 5 &&
      device.find_first_not_of("0123456789", 5) == std::string::npos) {
    return true;
  }
  throw SettingError("device", " '" + device + "': expected cpu or cuda[:N]");
}

uint64_t device_memory_bytes(const std::string& device) {
  if (!is_cuda_device(device)) return physical_memory_bytes();
  const std::string index = device == "cuda" ? "0" : device.substr(5);
  const std::string command =
      "nvidia-smi --query-gpu=memory.total --format=csv,noheader,nounits -i " + index + " 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  unsigned long long mib = 0;
  if (pipe && std::fscanf(pipe.get(), "%llu", &mib) == 1 && mib > 0) return saturating_product({mib, 1ull << 20});
  throw SettingError("device", " " + device + ": cannot query the GPU's memory (nvidia-smi found no device " + index +
                  "); pass --memory, e.g. --memory 24GiB");
}

}  // namespace lincat::plan
