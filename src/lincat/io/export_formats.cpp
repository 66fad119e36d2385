#include "lincat/io/export_formats.h"

#include "lincat/io/export_common.h"
#include "lincat/util/error.h"

namespace lincat::io {

ExportFormat parse_export_format(const std::string& name) {
  if (name == "peft") return ExportFormat::Peft;
  if (name == "lolcats") return ExportFormat::Lolcats;
  if (name == "merged") return ExportFormat::Merged;
  throw SettingError("format", " '" + name + "': expected peft, lolcats or merged");
}

std::string export_format_name(ExportFormat format) {
  switch (format) {
    case ExportFormat::Peft: return "peft";
    case ExportFormat::Lolcats: return "lolcats";
    case ExportFormat::Merged: return "merged";
  }
  return "?";
}

std::vector<std::string> export_model(const std::string& model_dir, ExportFormat format, const std::string& out_dir,
                                      const ExportOptions& options) {
  switch (format) {
    case ExportFormat::Peft: return export_peft(model_dir, out_dir, options);
    case ExportFormat::Lolcats: return export_lolcats(model_dir, out_dir, options);
    case ExportFormat::Merged: return export_merged(model_dir, out_dir);
  }
  throw std::logic_error("unhandled export format");
}

}  // namespace lincat::io
