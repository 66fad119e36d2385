// Rank sharding and the settings of a multi-process run: blocks cover the whole in order, and
// bad flags or variables fail with a message naming them.
#include <gtest/gtest.h>

#include <cstdlib>

#include "lincat/dist/settings.h"
#include "lincat/dist/shard.h"
#include "support/user_error.h"

namespace lincat::dist {
namespace {

TEST(DistShard, BlocksCoverTheWholeInOrderAndDifferByAtMostOne) {
  for (int64_t count : {0, 1, 5, 8, 13}) {
    for (int world : {1, 2, 3, 7}) {
      int64_t next = 0;
      for (int rank = 0; rank < world; ++rank) {
        const Slice s = rank_slice(count, rank, world);
        EXPECT_EQ(s.begin, next) << count << "/" << world;
        EXPECT_GE(s.size(), count / world);
        EXPECT_LE(s.size(), count / world + 1);
        next = s.end;
      }
      EXPECT_EQ(next, count) << count << "/" << world;
    }
  }
  EXPECT_EQ(rank_share(std::vector<int>{1, 2, 3, 4, 5}, 0, 2), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(rank_share(std::vector<int>{1, 2, 3, 4, 5}, 1, 2), (std::vector<int>{4, 5}));
}

TEST(DistSettings, ComeFromTheLauncherVariables) {
  ::setenv("WORLD_SIZE", "4", 1);
  ::setenv("RANK", "3", 1);
  ::setenv("MASTER_ADDR", "10.0.0.7", 1);
  ::setenv("MASTER_PORT", "1234", 1);
  const Settings s = settings_from_environment();
  EXPECT_EQ(s.world_size, 4);
  EXPECT_EQ(s.rank, 3);
  EXPECT_EQ(s.local_rank, 3);  // LOCAL_RANK unset: the rank
  EXPECT_EQ(s.master_addr, "10.0.0.7");
  EXPECT_EQ(s.master_port, 1234);
  ::setenv("RANK", "x1", 1);
  {
    const std::string message = test::user_error_message([] { settings_from_environment(); });
    EXPECT_TRUE(test::contains(message, "RANK"));
    EXPECT_TRUE(test::contains(message, "x1"));
    EXPECT_TRUE(test::contains(message, "integer"));
  }
  for (const char* name : {"WORLD_SIZE", "RANK", "MASTER_ADDR", "MASTER_PORT"}) ::unsetenv(name);
}

TEST(DistSettings, ImpossibleCombinationsNameTheFlag) {
  Settings s;
  s.world_size = 2;
  s.rank = 2;
  {
    const std::string message = test::user_error_message([&] { validate(s); });
    EXPECT_TRUE(test::contains(message, "rank (or RANK) 2"));
    EXPECT_TRUE(test::contains(message, "0 to 1"));
  }
  s.rank = 0;
  s.master_port = 70000;
  {
    const std::string message = test::user_error_message([&] { validate(s); });
    EXPECT_TRUE(test::contains(message, "master_port"));
    EXPECT_TRUE(test::contains(message, "65535"));
  }
  s.master_port = 29500;
  s.timeout_seconds = 0;
  {
    const std::string message = test::user_error_message([&] { validate(s); });
    EXPECT_TRUE(test::contains(message, "dist_timeout"));
  }
  s.timeout_seconds = 1;
  s.world_size = 0;
  {
    const std::string message = test::user_error_message([&] { validate(s); });
    EXPECT_TRUE(test::contains(message, "world_size"));
  }
}

}  // namespace
}  // namespace lincat::dist
