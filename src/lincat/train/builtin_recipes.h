// The YAML text of the built-in recipes (docs/algorithms.md section 7). Each sets only what it
// changes from the defaults in recipe.h.
#pragma once
#include <string>

namespace lincat::train {

// The YAML of built-in recipe `name`, or "" if there is none of that name.
std::string builtin_recipe_yaml(const std::string& name);

}  // namespace lincat::train
