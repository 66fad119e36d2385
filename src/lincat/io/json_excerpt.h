// A JSON value from a user's file, quoted in an error message.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace lincat::io {

// Scalars as written (cut at 40 characters); arrays and objects by kind and size only. Dumping a
// nested value recurses once per level, and a hostile file nests as deep as its length allows.
std::string json_excerpt(const nlohmann::json& value);

}  // namespace lincat::io
