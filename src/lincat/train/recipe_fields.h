// The YAML keys of the settings recipes and pretraining configs share: data (with synthetic
// documents) and optimiser settings.
#pragma once
#include <string>

#include "lincat/train/recipe.h"
#include "lincat/train/settings_yaml.h"

namespace lincat::train {

// data.sequence_length ... data.synthetic.max_distance under `prefix` ("data.").
void add_data_fields(const std::string& prefix, DataSettings& data, Fields& fields);
// learning_rate, weight_decay, schedule, warmup_steps, clip_norm, min_learning_rate under `prefix`.
void add_optimiser_fields(const std::string& prefix, OptimiserSettings& optimiser, Fields& fields);

}  // namespace lincat::train
