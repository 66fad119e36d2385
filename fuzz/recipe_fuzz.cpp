// A recipe YAML file, then `--set` assignments, on arbitrary bytes: the input up to the first NUL
// byte is the file, each further NUL-separated piece one assignment. Either a UserError, or a
// recipe that validate() judges without any other exception and whose resolved YAML (to_yaml)
// loads back into the same recipe (compared by its resolved YAML, which writes every setting).
#include <cstdlib>
#include <string>
#include <vector>

#include "fuzz/fuzz_support.h"
#include "lincat/train/recipe.h"
#include "lincat/util/error.h"

namespace {

std::vector<std::string> split_at_nul(const uint8_t* data, std::size_t size) {
  std::vector<std::string> pieces(1);
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      pieces.emplace_back();
    } else {
      pieces.back() += static_cast<char>(data[i]);
    }
  }
  return pieces;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::vector<std::string> pieces = split_at_nul(data, size);
  const std::string& file = pieces[0];
  const std::string path =
      lincat::fuzz::write_input("recipe.yaml", reinterpret_cast<const uint8_t*>(file.data()), file.size());
  lincat::train::Recipe recipe;
  try {
    recipe = lincat::train::load_recipe(path);
  } catch (const lincat::UserError&) {
    return 0;
  }
  for (std::size_t i = 1; i < pieces.size() && i <= 8; ++i) {
    try {
      lincat::train::apply_override(recipe, pieces[i]);
    } catch (const lincat::UserError&) {
    }
  }
  try {
    lincat::train::validate(recipe);
    // Valid recipes only: the step count divides by data.tokens_per_step, which validate checks.
    (void)lincat::train::stage_steps(recipe.stage1, recipe.data);
    (void)lincat::train::stage_steps(recipe.stage2, recipe.data);
  } catch (const lincat::UserError&) {
  }
  const std::string resolved = lincat::train::to_yaml(recipe);
  const std::string resolved_path = lincat::fuzz::write_input(
      "resolved.yaml", reinterpret_cast<const uint8_t*>(resolved.data()), resolved.size());
  lincat::train::Recipe reread;
  try {
    reread = lincat::train::load_recipe(resolved_path);
  } catch (const lincat::UserError&) {
    std::abort();  // lincat refuses a recipe it wrote itself
  }
  if (lincat::train::to_yaml(reread) != resolved) std::abort();
  return 0;
}
