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
    const std::string key = prefix + entry.first.as<std::string>();
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

void apply_root(const YAML::Node& root, const std::string& source, Fields& fields) {
  if (root.IsNull()) return;
  apply_node(root, "", source, fields);
}

}  // namespace

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
    throw UserError("--set '" + assignment + "': expected key=value, e.g. " + example);
  }
  const std::string key = assignment.substr(0, equals);
  const auto field = fields.find(key);
  if (field == fields.end()) throw UserError("--set '" + assignment + "': unknown setting '" + key + "'");
  YAML::Node value;
  try {
    value = YAML::Load(assignment.substr(equals + 1));
  } catch (const YAML::Exception& e) {
    throw UserError("--set '" + assignment + "': invalid value (" + e.msg + ")");
  }
  field->second.read(value, "--set " + key);
}

std::string fields_to_yaml(Fields& fields) {
  YAML::Node root(YAML::NodeType::Map);
  for (auto& [key, field] : fields) {
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
