// How much memory a device has, for the memory plan: the machine's RAM for the CPU, the GPU's
// total memory (from nvidia-smi, which every CUDA driver installs) for cuda[:N].
#pragma once
#include <cstdint>
#include <string>

namespace lincat::plan {

// `device` is "cpu", "cuda" or "cuda:N". Throws UserError naming `flag` for another text, and
// when a GPU's memory cannot be queried (no driver here): pass --memory then.
uint64_t device_memory_bytes(const std::string& device, const std::string& flag);

// true for "cuda" and "cuda:N"; false for "cpu"; UserError naming `flag` otherwise.
bool is_cuda_device(const std::string& device, const std::string& flag);

}  // namespace lincat::plan
