#include "lincat/attention/modes.h"

#include <utility>

#include "lincat/attention/hybrid_settings.h"
#include "lincat/util/error.h"

namespace lincat::attention {
namespace {

// One table per enum: the names are defined once and drive both name() and parse().
template <typename Enum>
using NameTable = std::vector<std::pair<Enum, std::string>>;

const NameTable<Mode>& mode_table() {
  static const NameTable<Mode> table = {
      {Mode::Softmax, "softmax"}, {Mode::Hybrid, "hybrid"}, {Mode::Window, "window"},
      {Mode::Linear, "linear"},   {Mode::Sinks, "sinks"},   {Mode::None, "none"},
      {Mode::Overlap, "overlap"}};
  return table;
}

const NameTable<Layout>& layout_table() {
  static const NameTable<Layout> table = {{Layout::Standard, "standard"},
                                          {Layout::Terraced, "terraced"}};
  return table;
}

const NameTable<FeatureMapKind>& feature_map_table() {
  static const NameTable<FeatureMapKind> table = {{FeatureMapKind::Hedgehog, "hedgehog"},
                                                  {FeatureMapKind::HedgehogExp, "hedgehog_exp"},
                                                  {FeatureMapKind::T2R, "t2r"},
                                                  {FeatureMapKind::Elu1, "elu1"},
                                                  {FeatureMapKind::Relu, "relu"}};
  return table;
}

template <typename Enum>
const std::string& name_of(const NameTable<Enum>& table, Enum value) {
  for (const auto& [entry, name] : table) {
    if (entry == value) return name;
  }
  throw std::logic_error("enum value missing from its name table");
}

template <typename Enum>
Enum parse_from(const NameTable<Enum>& table, const std::string& name, const char* what) {
  std::string valid;
  for (const auto& [entry, entry_name] : table) {
    if (entry_name == name) return entry;
    valid += (valid.empty() ? "" : ", ") + entry_name;
  }
  throw UserError("unknown " + std::string(what) + " '" + name + "'; valid: " + valid);
}

template <typename Enum>
std::vector<Enum> values_of(const NameTable<Enum>& table) {
  std::vector<Enum> values;
  for (const auto& entry : table) values.push_back(entry.first);
  return values;
}

}  // namespace

std::string mode_name(Mode mode) { return name_of(mode_table(), mode); }
Mode parse_mode(const std::string& name) { return parse_from(mode_table(), name, "attention mode"); }
const std::vector<Mode>& all_modes() {
  static const std::vector<Mode> modes = values_of(mode_table());
  return modes;
}

std::string layout_name(Layout layout) { return name_of(layout_table(), layout); }
Layout parse_layout(const std::string& name) {
  return parse_from(layout_table(), name, "window layout");
}

std::string feature_map_name(FeatureMapKind kind) { return name_of(feature_map_table(), kind); }
FeatureMapKind parse_feature_map(const std::string& name) {
  return parse_from(feature_map_table(), name, "feature map");
}
const std::vector<FeatureMapKind>& all_feature_maps() {
  static const std::vector<FeatureMapKind> kinds = values_of(feature_map_table());
  return kinds;
}

void validate(const HybridConfig& config) {
  for (const HybridSetting& setting : hybrid_settings()) check_setting(setting, config);
}

}  // namespace lincat::attention
