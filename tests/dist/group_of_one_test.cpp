// A process group of one process (Settings::connect_alone): the transport is really formed (Gloo
// here; NCCL on a GPU in group_of_one_cuda_test.cpp) and its collectives leave the values as a
// sum over one rank does, while a plain single process forms nothing.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "lincat/dist/process_group.h"
#include "support/two_ranks.h"

namespace lincat::dist {
namespace {

TEST(DistGroupOfOne, ConnectsAloneOnlyWhenAsked) {
  EXPECT_EQ(Group(Settings{}).backend(), "none");
  Settings settings;
  settings.connect_alone = true;
  settings.master_port = test::free_port();
  settings.timeout_seconds = 30;
  Group group(settings);
  EXPECT_EQ(group.backend(), "gloo");
  const at::Tensor a = torch::arange(6, at::kFloat), b = torch::ones({2, 3}, at::kDouble);
  const at::Tensor a0 = a.clone(), b0 = b.clone();
  group.all_reduce_sum({a, b});
  EXPECT_TRUE(at::equal(a, a0));
  EXPECT_TRUE(at::equal(b, b0));
  EXPECT_DOUBLE_EQ(group.all_reduce_sum(2.5), 2.5);
  group.broadcast({a}, 0);
  EXPECT_TRUE(at::equal(a, a0));
  group.barrier();
}

}  // namespace
}  // namespace lincat::dist
