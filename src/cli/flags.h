// Flags shared by several subcommands, each declared once here.
#pragma once
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "lincat/model/model.h"

namespace lincat::cli {

struct ModelFlags {
  std::string directory;
  std::string device = "cpu";
  std::string dtype = "float32";
  std::string attention;  // empty: the model's default mode

  void add_to(CLI::App& command);            // MODEL, --device, --dtype
  void add_attention_to(CLI::App& command);  // --attention
  LoadOptions load_options() const;
  // The --attention mode checked against `model`, or the model's default mode.
  attention::Mode mode(const Model& model) const;
};

// "a, b,c" -> {"a", "b", "c"}; UserError naming `flag` on an empty item.
std::vector<std::string> split_list(const std::string& text, const std::string& flag);

// "1,2,3" (spaces allowed) -> ids; UserError naming `flag` on anything else.
std::vector<int64_t> parse_id_list(const std::string& text, const std::string& flag);

}  // namespace lincat::cli
