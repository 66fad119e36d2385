// Where a process stands in a multi-process run: world size, rank, rendezvous address, timeout.
// Filled from the variables torch's launchers set (WORLD_SIZE, RANK, LOCAL_RANK, MASTER_ADDR,
// MASTER_PORT), then from flags, which win. Torch-free.
#pragma once
#include <cstdint>
#include <string>

namespace lincat::dist {

struct Settings {
  int world_size = 1;
  int rank = 0;
  int local_rank = 0;  // the rank within this machine: picks cuda:LOCAL_RANK on GPU builds
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  double timeout_seconds = 300;  // rendezvous and every collective; a dead peer is reported sooner
  bool gpu = false;              // tensors on CUDA: NCCL when libtorch has it (LINCAT_WITH_NCCL)
  // Form the c10d group even with a world size of 1, so that one process can check a transport
  // (NCCL on a machine's only GPU: scripts/device_check.sh). Runs never set it.
  bool connect_alone = false;

  bool distributed() const { return world_size > 1; }
  bool writes_outputs() const { return rank == 0; }
};

// Settings from the environment; UserError naming the variable when one is malformed.
Settings settings_from_environment();

// UserError naming the flag (or variable) when the combination is impossible: world size < 1,
// rank outside [0, world size), port outside 1..65535, timeout not positive.
void validate(const Settings& settings);
}  // namespace lincat::dist
