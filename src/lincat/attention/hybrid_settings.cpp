#include "lincat/attention/hybrid_settings.h"

#include "lincat/util/error.h"

namespace lincat::attention {

const std::vector<HybridSetting>& hybrid_settings() {
  static const std::vector<HybridSetting> settings = [] {
    std::string maps;
    for (FeatureMapKind kind : all_feature_maps()) maps += (maps.empty() ? "" : ", ") + feature_map_name(kind);
    std::vector<HybridSetting> list;
    list.push_back({"window", "sliding-window size w", &HybridConfig::window, 1});
    list.push_back({"layout", "window layout: standard or terraced", nullptr, 0,
                    [](const HybridConfig& c) { return layout_name(c.layout); },
                    [](HybridConfig& c, const std::string& text) { c.layout = parse_layout(text); }});
    list.push_back({"sinks", "sink tokens always in the window", &HybridConfig::sinks, 0});
    list.push_back({"feature_map", "feature map: " + maps, nullptr, 0,
                    [](const HybridConfig& c) { return feature_map_name(c.feature_map); },
                    [](HybridConfig& c, const std::string& text) { c.feature_map = parse_feature_map(text); }});
    list.push_back({"feature_dim", "feature size f", &HybridConfig::feature_dim, 1});
    list.push_back({"sinks_mode_keys", "keys s of the sinks diagnostic mode", &HybridConfig::sinks_mode_keys, 1});
    return list;
  }();
  return settings;
}

void check_setting(const HybridSetting& setting, const HybridConfig& config) {
  if (setting.number && config.*setting.number < setting.minimum) {
    throw UserError("hybrid attention config: " + setting.name + " must be >= " + std::to_string(setting.minimum) +
                    ", found " + std::to_string(config.*setting.number));
  }
}

}  // namespace lincat::attention
