#include "lincat/attention/modes.h"

#include <utility>

#include "lincat/attention/hybrid_settings.h"
#include "lincat/util/error.h"
#include "lincat/util/name_table.h"

namespace lincat::attention {
namespace {

using util::NameTable;
using util::name_of;
using util::parse_from;
using util::values_of;

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
