// Attention modes, window layouts, feature-map kinds and the per-layer hybrid configuration
// (docs/algorithms.md sections 2-5). Plain C++: no torch here, so configs and CLIs can use it.
#pragma once
#include <string>
#include <vector>

namespace lincat::attention {

// What each query attends to (algorithms.md section 5).
enum class Mode { Softmax, Hybrid, Window, Linear, Sinks, None, Overlap };

// Standard: the last w keys. Terraced: own block of w plus the whole previous block.
enum class Layout { Standard, Terraced };

enum class FeatureMapKind { Hedgehog, HedgehogExp, T2R, Elu1, Relu };

struct HybridConfig {
  int window = 64;                                    // w, also the chunk size of the chunked form
  Layout layout = Layout::Standard;
  int sinks = 0;                                      // first positions always in W(i) (hybrid, window, overlap)
  FeatureMapKind feature_map = FeatureMapKind::Hedgehog;
  int feature_dim = 64;                               // f: columns of the feature projection
  int sinks_mode_keys = 8;                            // s of the `sinks` diagnostic mode
};

std::string mode_name(Mode mode);
// Throws lincat::UserError naming the valid modes.
Mode parse_mode(const std::string& name);
const std::vector<Mode>& all_modes();

std::string layout_name(Layout layout);
Layout parse_layout(const std::string& name);

std::string feature_map_name(FeatureMapKind kind);
FeatureMapKind parse_feature_map(const std::string& name);
const std::vector<FeatureMapKind>& all_feature_maps();

// Throws lincat::UserError when a field is out of range (window < 1, negative sinks, ...).
void validate(const HybridConfig& config);

}  // namespace lincat::attention
