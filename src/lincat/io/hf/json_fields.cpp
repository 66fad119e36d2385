// Field access on tokenizer.json objects, with errors that name the field.
#include "lincat/io/hf/components.h"
#include "lincat/util/error.h"

namespace lincat::io::hf {
namespace {

// "FILE: model" + "vocab" -> "FILE: model.vocab"; at the top level "FILE: " + "model" -> "FILE: model".
std::string field_path(const std::string& where, const char* key) {
  const bool top = where.size() >= 2 && where.compare(where.size() - 2, 2, ": ") == 0;
  return where + (top ? "" : ".") + key;
}

}  // namespace

const Json& require(const Json& object, const char* key, const std::string& where) {
  if (!object.is_object()) throw UserError(where + ": expected an object, found " + object.type_name());
  const auto found = object.find(key);
  if (found == object.end()) throw UserError(field_path(where, key) + ": missing");
  return *found;
}

std::string require_string(const Json& object, const char* key, const std::string& where) {
  const Json& value = require(object, key, where);
  if (!value.is_string()) throw UserError(field_path(where, key) + ": expected a string, found " + value.type_name());
  return value.get<std::string>();
}

std::string optional_string(const Json& object, const char* key, const std::string& fallback,
                            const std::string& where) {
  const auto found = object.find(key);
  if (found == object.end() || found->is_null()) return fallback;
  if (!found->is_string()) throw UserError(field_path(where, key) + ": expected a string, found " + found->type_name());
  return found->get<std::string>();
}

bool optional_bool(const Json& object, const char* key, bool fallback, const std::string& where) {
  const auto found = object.find(key);
  if (found == object.end() || found->is_null()) return fallback;
  if (!found->is_boolean()) throw UserError(field_path(where, key) + ": expected true or false, found " + found->type_name());
  return found->get<bool>();
}

std::string type_of(const Json& component, const std::string& where) { return require_string(component, "type", where); }

void refuse(const std::string& where, const std::string& kind, const std::string& type, const std::string& supported) {
  throw UserError(where + ".type: " + kind + " '" + type + "' is not supported by lincat (supported: " + supported + ")");
}

}  // namespace lincat::io::hf
