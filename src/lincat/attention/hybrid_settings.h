// The settings of HybridConfig, each declared once: recipes (attention.<name>), config.json's
// "lincat" section (read and write) and convert-init's flags (--<name> with '-' for '_') are all
// driven by this list. A new setting is a new field of HybridConfig and a new entry here.
#pragma once
#include <string>
#include <vector>

#include "lincat/attention/modes.h"

namespace lincat::attention {

// One setting of HybridConfig: a number (`number` set) or a name (`text`/`set_text` set). Its name
// is its key in a recipe's `attention:` section and in config.json's "lincat" section, and, with
// '-' for '_', convert-init's flag.
struct HybridSetting {
  std::string name;
  std::string help;
  int HybridConfig::*number = nullptr;
  int minimum = 0;  // least valid number
  std::string (*text)(const HybridConfig&) = nullptr;
  void (*set_text)(HybridConfig&, const std::string&) = nullptr;  // UserError naming the valid names
};

// Every setting of HybridConfig, in the order they are read and listed.
const std::vector<HybridSetting>& hybrid_settings();

// Throws lincat::UserError when the setting's value in `config` is out of range.
void check_setting(const HybridSetting& setting, const HybridConfig& config);

}  // namespace lincat::attention
