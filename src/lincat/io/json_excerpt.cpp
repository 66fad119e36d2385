#include "lincat/io/json_excerpt.h"

namespace lincat::io {

std::string json_excerpt(const nlohmann::json& value) {
  if (value.is_array() || value.is_object()) {
    const std::size_t count = value.size();
    const std::string noun = value.is_array() ? (count == 1 ? " item" : " items") : (count == 1 ? " key" : " keys");
    return (value.is_array() ? "an array of " : "an object of ") + std::to_string(count) + noun;
  }
  constexpr std::size_t kMaxCharacters = 40;
  const std::string text = value.dump();
  return text.size() > kMaxCharacters ? text.substr(0, kMaxCharacters) + "..." : text;
}

}  // namespace lincat::io
