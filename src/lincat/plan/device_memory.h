// How much memory a device has, for the memory plan: the machine's RAM for the CPU, the GPU's
// total memory (from nvidia-smi, which every CUDA driver installs) for cuda[:N].
#pragma once
#include <cstdint>
#include <string>

namespace lincat::plan {

// `device` is "cpu", "cuda" or "cuda:N". SettingError naming `device` for another text, and when a
// GPU's memory cannot be queried (no driver here): the caller must give the memory then.
uint64_t device_memory_bytes(const std::string& device);

// true for "cuda" and "cuda:N"; false for "cpu"; SettingError naming `device` otherwise.
bool is_cuda_device(const std::string& device);

}  // namespace lincat::plan
