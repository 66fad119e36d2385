#include "lincat/util/error.h"

#include <gtest/gtest.h>

TEST(UserError, CarriesMessage) {
  lincat::UserError e("config.json: missing field hidden_size");
  EXPECT_STREQ(e.what(), "config.json: missing field hidden_size");
}
