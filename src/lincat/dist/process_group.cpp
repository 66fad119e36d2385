#include "lincat/dist/process_group.h"

// c10d compiles its Gloo process group only with this defined; libtorch_cpu.so always has it.
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef LINCAT_WITH_NCCL  // CUDA builds of libtorch (untested here: Debian's libtorch is CPU-only)
#ifndef USE_C10D_NCCL     // as for Gloo: the header declares the NCCL group only with this defined
#define USE_C10D_NCCL
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>

#include "lincat/util/error.h"

namespace lincat::dist {
namespace {

using Work = c10::intrusive_ptr<c10d::Work>;

bool is_loopback(const std::string& address) {
  return address == "localhost" || address.rfind("127.", 0) == 0 || address == "::1";
}

}  // namespace

// The collectives of one backend, each returning the work to wait on.
struct Group::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  std::function<Work(std::vector<at::Tensor>&)> all_reduce;
  std::function<Work(std::vector<at::Tensor>&, int root)> broadcast;
  std::function<Work()> barrier;
  std::chrono::milliseconds timeout{0};
  std::string backend;
};

namespace {

// Binds the collectives of a concrete c10d group (Gloo or NCCL: the same calls in 1.13 and 2.x).
template <typename ConcreteGroup>
void bind(Group::Impl& impl, const c10::intrusive_ptr<ConcreteGroup>& group) {
  impl.all_reduce = [group](std::vector<at::Tensor>& t) { return group->allreduce(t); };
  impl.broadcast = [group](std::vector<at::Tensor>& t, int root) {
    c10d::BroadcastOptions options;
    options.rootRank = root;
    return group->broadcast(t, options);
  };
  impl.barrier = [group] { return group->barrier(); };
}

}  // namespace

Group::Group() = default;

Group::Group(const Settings& settings) : settings_(settings) {
  validate(settings_);
  if (!settings_.distributed() && !settings_.connect_alone) return;
  auto impl = std::make_unique<Impl>();
  impl->timeout = std::chrono::milliseconds(static_cast<int64_t>(settings_.timeout_seconds * 1000));
  const std::string where = settings_.master_addr + ":" + std::to_string(settings_.master_port);
  try {
    c10d::TCPStoreOptions options;
    options.port = static_cast<uint16_t>(settings_.master_port);
    options.isServer = settings_.rank == 0;
    options.numWorkers = static_cast<size_t>(settings_.world_size);
    options.waitWorkers = true;
    options.timeout = impl->timeout;
    impl->store = c10::make_intrusive<c10d::TCPStore>(settings_.master_addr, options);
#ifdef LINCAT_WITH_NCCL
    if (settings_.gpu) {
      auto nccl_options = c10d::ProcessGroupNCCL::Options::create();
      nccl_options->timeout = impl->timeout;
      bind(*impl, c10::make_intrusive<c10d::ProcessGroupNCCL>(impl->store, settings_.rank, settings_.world_size,
                                                               nccl_options));
      impl->backend = "nccl";
    }
#endif
    if (!impl->all_reduce) {
      auto gloo_options = c10d::ProcessGroupGloo::Options::create(impl->timeout);
      // A loopback rendezvous keeps everything on loopback; otherwise bind to this machine's
      // address, or to the interface GLOO_SOCKET_IFNAME names, as torch.distributed does.
      const char* interface = std::getenv("GLOO_SOCKET_IFNAME");
      if (interface != nullptr && *interface != '\0') {
        gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(interface));
      } else if (is_loopback(settings_.master_addr)) {
        gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
      } else {
        gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      }
      gloo_options->threads = 2;
      bind(*impl, c10::make_intrusive<c10d::ProcessGroupGloo>(impl->store, settings_.rank, settings_.world_size,
                                                              gloo_options));
      impl->backend = "gloo";
    }
  } catch (const std::exception& e) {
    throw UserError("rank " + std::to_string(settings_.rank) + " of " + std::to_string(settings_.world_size) +
                    ": cannot form the process group at " + where + " within " +
                    std::to_string(static_cast<int64_t>(settings_.timeout_seconds)) +
                    " s (check the master address, port and timeout; is every rank started with the same "
                    "world size, and is the port free on rank 0's machine?): " + e.what());
  }
  impl_ = std::move(impl);
}

Group::~Group() = default;

std::string Group::backend() const { return impl_ ? impl_->backend : "none"; }

namespace {

// Waits for `work`; on failure the group is abandoned (its threads may be stuck on the dead
// peer, so it is never destroyed) and a UserError explains what happened.
void wait_or_fail(const Work& work, std::chrono::milliseconds timeout, const char* operation, const Settings& s) {
  try {
    if (!work->wait(timeout)) throw std::runtime_error("timed out");
  } catch (const std::exception& e) {
    throw UserError("rank " + std::to_string(s.rank) + " of " + std::to_string(s.world_size) + ": " + operation +
                    " failed: another process of this run stopped (crashed, killed, out of memory) or could "
                    "not be reached within the timeout of " + std::to_string(static_cast<int64_t>(s.timeout_seconds)) +
                    " s [" + e.what() + "]. Every process stops; fix the cause and rerun the same command with "
                    "--resume (with any number of processes) to continue from the last checkpoint");
  }
}

}  // namespace

void Group::all_reduce_sum(const std::vector<at::Tensor>& tensors) {
  if (!impl_ || tensors.empty()) return;
  at::NoGradGuard no_grad;
  // One flat buffer per dtype, in first-seen order: one collective for a whole gradient list.
  std::map<at::ScalarType, std::vector<size_t>> by_dtype;
  for (size_t i = 0; i < tensors.size(); ++i) by_dtype[tensors[i].scalar_type()].push_back(i);
  for (const auto& [dtype, members] : by_dtype) {
    std::vector<at::Tensor> flat;
    for (size_t i : members) flat.push_back(tensors[i].reshape({-1}));
    std::vector<at::Tensor> buffer{at::cat(flat)};  // [sum of numels]
    const Work work = impl_->all_reduce(buffer);
    try {
      wait_or_fail(work, impl_->timeout, "all-reduce", settings_);
    } catch (...) {
      impl_.release();  // NOLINT: deliberately leaked, see wait_or_fail
      throw;
    }
    int64_t offset = 0;
    for (size_t i : members) {
      const int64_t n = tensors[i].numel();
      tensors[i].copy_(buffer[0].narrow(0, offset, n).view(tensors[i].sizes()));
      offset += n;
    }
  }
}

void Group::all_reduce_sum(std::vector<double>& values) {
  if (!impl_ || values.empty()) return;
  const at::Tensor buffer = at::tensor(values, at::kDouble);  // [n]
  all_reduce_sum(std::vector<at::Tensor>{buffer});
  for (size_t i = 0; i < values.size(); ++i) values[i] = buffer[static_cast<int64_t>(i)].item<double>();
}

double Group::all_reduce_sum(double value) {
  std::vector<double> values{value};
  all_reduce_sum(values);
  return values[0];
}

void Group::broadcast(const std::vector<at::Tensor>& tensors, int root) {
  if (!impl_ || tensors.empty()) return;
  at::NoGradGuard no_grad;
  for (const at::Tensor& t : tensors) {
    std::vector<at::Tensor> one{t.is_contiguous() ? t : t.contiguous()};
    const Work work = impl_->broadcast(one, root);
    try {
      wait_or_fail(work, impl_->timeout, "broadcast", settings_);
    } catch (...) {
      impl_.release();  // NOLINT: deliberately leaked, see wait_or_fail
      throw;
    }
    if (!one[0].is_same(t)) t.copy_(one[0]);
  }
}

void Group::barrier() {
  if (!impl_) return;
  const Work work = impl_->barrier();
  try {
    wait_or_fail(work, impl_->timeout, "barrier", settings_);
  } catch (...) {
    impl_.release();  // NOLINT: deliberately leaked, see wait_or_fail
    throw;
  }
}

}  // namespace lincat::dist
