#include "lincat/train/settings_yaml.h"

namespace lincat::train {
namespace {

std::string location(const std::string& source, const YAML::Node& node) {
  return source + ":" + std::to_string(node.Mark().line + 1);
}

// Reads the settings in `node` (a map) into the fields, keys joined with dots.
void apply_node(const YAML::Node& node, const std::string& prefix, const std::string& source, Fields& fields) {
  if (!node.IsMap()) throw UserError(location(source, node) + ": expected a mapping of settings");
  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) {  // `? [a, b]: 1`; as<std::string> would throw YAML::BadConversion
      throw UserError(location(source, entry.first) + ": a setting name must be plain text, found a " +
                      (entry.first.IsMap() ? "mapping" : entry.first.IsSequence() ? "list" : "null") +
                      (prefix.empty() ? "" : " under '" + prefix.substr(0, prefix.size() - 1) + "'"));
    }
    const std::string key = prefix + entry.first.Scalar();
    const auto field = fields.find(key);
    if (field != fields.end()) {
      field->second.read(entry.second, location(source, entry.second) + ": " + key);
    } else if (entry.second.IsMap()) {
      apply_node(entry.second, key + ".", source, fields);
    } else {
      throw UserError(location(source, entry.first) + ": unknown setting '" + key + "'");
    }
  }
}

// Length of the UTF-8 sequence starting at text[i] (1..4), or 0 if it is not valid UTF-8
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
size_t utf8_length(const std::string& text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t n = 0;
  unsigned char low = 0x80, high = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) low = 0xA0;
    if (c == 0xED) high = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) low = 0x90;
    if (c == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (i + n > text.size() || byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

void apply_root(const YAML::Node& root, const std::string& source, Fields& fields) {
  if (root.IsNull()) return;
  apply_node(root, "", source, fields);
}

}  // namespace

void check_printable(const std::string& text, const std::string& where) {
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F) {
      throw UserError(where + ": control character " + std::to_string(c) + " at byte " + std::to_string(i) +
                      "; expected printable text");
    }
    const size_t n = utf8_length(text, i);
    if (n == 0) throw UserError(where + ": invalid UTF-8 at byte " + std::to_string(i));
    i += n;
  }
}

void apply_yaml_text(const std::string& text, const std::string& source, Fields& fields) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw UserError(source + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML (" + e.msg + ")");
  }
  apply_root(root, source, fields);
}

void apply_yaml_file(const std::string& path, Fields& fields) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw UserError(path + ": cannot read the settings file");
  } catch (const YAML::Exception& e) {
    throw UserError(path + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML (" + e.msg + ")");
  }
  apply_root(root, path, fields);
}

void apply_assignment(const std::string& assignment, Fields& fields, const std::string& example) {
  const size_t equals = assignment.find('=');
  if (equals == std::string::npos || equals == 0) {
    throw SettingError("set", " '" + assignment + "': expected key=value, e.g. " + example);
  }
  const std::string key = assignment.substr(0, equals);
  const auto field = fields.find(key);
  if (field == fields.end()) throw SettingError("set", " '" + assignment + "': unknown setting '" + key + "'");
  YAML::Node value;
  try {
    value = YAML::Load(assignment.substr(equals + 1));
  } catch (const YAML::Exception& e) {
    throw SettingError("set", " '" + assignment + "': invalid value (" + e.msg + ")");
  }
  field->second.read(value, key);
}

std::string fields_to_yaml(Fields& fields) {
  YAML::Node root(YAML::NodeType::Map);
  for (auto& [key, field] : fields) {
    if (!field.write) continue;  // read-only: an older spelling of settings written under other keys
    std::vector<std::string> parts;
    for (size_t start = 0;;) {
      const size_t dot = key.find('.', start);
      parts.push_back(key.substr(start, dot - start));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    YAML::Node node = root;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      if (!node[parts[i]]) node[parts[i]] = YAML::Node(YAML::NodeType::Map);
      node.reset(node[parts[i]]);
    }
    node[parts.back()] = field.write();
  }
  YAML::Emitter out;
  out << root;
  return std::string(out.c_str()) + "\n";
}

}  // namespace lincat::train
