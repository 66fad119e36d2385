// Asserting on lincat::UserError messages: tests check what the user is told, not only that
// something threw.
#pragma once
#include <gtest/gtest.h>

#include <functional>
#include <string>

namespace lincat::test {

// The message of the UserError that `action` throws; records a test failure (and returns "") if
// it throws nothing or something else.
std::string user_error_message(const std::function<void()>& action);

// EXPECT_TRUE(contains(message, "part")) prints both strings when it fails.
::testing::AssertionResult contains(const std::string& text, const std::string& part);

}  // namespace lincat::test
