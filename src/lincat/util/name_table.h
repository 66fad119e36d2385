// One table per enum: the names are written once and drive both name() and parse() (attention
// modes, layouts, feature maps, tasks, data formats, synthetic document kinds).
#pragma once
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "lincat/util/error.h"

namespace lincat::util {

template <typename Enum>
using NameTable = std::vector<std::pair<Enum, std::string>>;

template <typename Enum>
const std::string& name_of(const NameTable<Enum>& table, Enum value) {
  for (const auto& [entry, name] : table) {
    if (entry == value) return name;
  }
  throw std::logic_error("enum value missing from its name table");
}

// "a, b, c": every name, for help and messages.
template <typename Enum>
std::string names_of(const NameTable<Enum>& table) {
  std::string names;
  for (const auto& entry : table) names += (names.empty() ? "" : ", ") + entry.second;
  return names;
}

// UserError "unknown <what> '<name>'; valid: a, b, c" for a name not in the table.
template <typename Enum>
Enum parse_from(const NameTable<Enum>& table, const std::string& name, const char* what) {
  for (const auto& [entry, entry_name] : table) {
    if (entry_name == name) return entry;
  }
  throw UserError("unknown " + std::string(what) + " '" + name + "'; valid: " + names_of(table));
}

template <typename Enum>
std::vector<Enum> values_of(const NameTable<Enum>& table) {
  std::vector<Enum> values;
  for (const auto& entry : table) values.push_back(entry.first);
  return values;
}

}  // namespace lincat::util
