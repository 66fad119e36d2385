// The machinery behind YAML settings files (recipes, pretraining configs): every setting is a
// dotted key bound to a field of a settings struct, read with type checks that name the file and
// line, and written back so that the resolved settings load into the same values.
#pragma once
#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "lincat/util/error.h"

namespace lincat::train {

// One setting: how to read it from / write it to YAML.
struct Field {
  std::function<void(const YAML::Node&, const std::string& where)> read;
  std::function<YAML::Node()> write;  // empty: read only (an older key), never written
};
using Fields = std::map<std::string, Field>;

// Text settings (names, paths) must be printable UTF-8: control characters and invalid bytes do
// not survive being written back (a trailing carriage return is dropped, invalid bytes are
// replaced), so resolved settings would not repeat the run they describe. UserError naming `where`.
void check_printable(const std::string& text, const std::string& where);

template <typename T>
T yaml_scalar(const YAML::Node& node, const std::string& where, const std::string& expected) {
  T value;
  try {
    if (!node.IsScalar()) throw YAML::Exception(node.Mark(), "");
    value = node.as<T>();
  } catch (const YAML::Exception&) {
    throw UserError(where + ": expected " + expected);
  }
  if constexpr (std::is_same_v<T, std::string>) check_printable(value, where);
  return value;
}

template <typename T>
Field plain_field(T& value, const std::string& expected) {
  return {[&value, expected](const YAML::Node& n, const std::string& where) {
            value = yaml_scalar<T>(n, where, expected);
          },
          [&value] { return YAML::Node(value); }};
}

template <typename T>
Field list_field(std::vector<T>& values, const std::string& expected) {
  return {[&values, expected](const YAML::Node& n, const std::string& where) {
            if (!n.IsSequence()) throw UserError(where + ": expected a list of " + expected);
            values.clear();
            for (const YAML::Node& item : n) values.push_back(yaml_scalar<T>(item, where, "a list of " + expected));
          },
          [&values] {
            YAML::Node out(YAML::NodeType::Sequence);
            for (const T& v : values) out.push_back(v);
            return out;
          }};
}

// A setting stored as text: `set` throws UserError for a value it does not know. No `get`: read only.
inline Field text_field(std::function<void(const std::string&)> set, std::function<std::string()> get) {
  return {[set](const YAML::Node& n, const std::string& where) {
            const std::string text = yaml_scalar<std::string>(n, where, "a name");
            try {
              set(text);
            } catch (const UserError& e) {
              throw UserError(where + ": " + e.what());
            }
          },
          get ? std::function<YAML::Node()>([get] { return YAML::Node(get()); }) : nullptr};
}

// An enum-like setting stored as text: parse throws UserError for unknown names.
template <typename T>
Field named_field(T& value, std::function<T(const std::string&)> parse, std::function<std::string(T)> name) {
  return text_field([&value, parse](const std::string& text) { value = parse(text); },
                    [&value, name] { return name(value); });
}

// Reads YAML `text` (from `source`, named in messages) into `fields`. UserError naming the
// source and line for invalid YAML, unknown keys and values of the wrong type.
void apply_yaml_text(const std::string& text, const std::string& source, Fields& fields);
// Same, from a file; UserError naming it if it cannot be read.
void apply_yaml_file(const std::string& path, Fields& fields);

// Applies "a.b.c=value" (value parsed as YAML); SettingError naming `set` if malformed
// or unknown. `example` completes "e.g. ..." in the message.
void apply_assignment(const std::string& assignment, Fields& fields, const std::string& example);

// Every field as nested YAML, keys split at the dots.
std::string fields_to_yaml(Fields& fields);

}  // namespace lincat::train
