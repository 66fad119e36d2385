// On a CUDA GPU (label "cuda"; skipped without one): the NCCL process group forms in one process
// (Settings::connect_alone) and its collectives run on GPU tensors in float32 and bfloat16, as a
// multi-GPU run's gradient reduction does. scripts/device_check.sh runs it.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "lincat/dist/process_group.h"
#include "support/two_ranks.h"

namespace lincat::dist {
namespace {

TEST(Cuda, NcclGroupOfOneProcessReducesOnTheGpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  Settings settings;
  settings.gpu = true;
  settings.connect_alone = true;
  settings.master_port = test::free_port();
  settings.timeout_seconds = 60;
  Group group(settings);
  EXPECT_EQ(group.backend(), "nccl") << "this libtorch has no NCCL (LINCAT_WITH_NCCL not defined)";
  const auto cuda = at::TensorOptions().device(at::kCUDA);
  const at::Tensor a = torch::arange(1000, cuda.dtype(at::kFloat)), b = torch::ones({7, 5}, cuda.dtype(at::kBFloat16));
  const at::Tensor a0 = a.clone(), b0 = b.clone();
  group.all_reduce_sum({a, b});
  EXPECT_TRUE(at::equal(a.cpu(), a0.cpu()));
  EXPECT_TRUE(at::equal(b.cpu(), b0.cpu()));
  group.broadcast({a}, 0);
  EXPECT_TRUE(at::equal(a.cpu(), a0.cpu()));
  group.barrier();
}

}  // namespace
}  // namespace lincat::dist
