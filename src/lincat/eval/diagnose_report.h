// Writes a DiagnoseReport into a directory: report.md (tables and the verdict), report.json, and
// SVG plots: linear_share.svg (layer x head), mode_accuracy.svg, probe_<name>.svg (accuracy
// against distance per mode). Every file is written atomically.
#pragma once
#include <nlohmann/json.hpp>

#include <string>

#include "lincat/eval/diagnose.h"

namespace lincat::eval {

nlohmann::json diagnose_json(const DiagnoseReport& report);

// Paired differences as report.json lists them (the demo's against_lolcats too): McNemar's counts
// and p are null for bits per byte.
nlohmann::json paired_json(const std::vector<PairedDifference>& paired);
std::string diagnose_markdown(const DiagnoseReport& report);

// Creates `directory` if needed; returns the files written.
std::vector<std::string> write_diagnose_report(const DiagnoseReport& report, const std::string& directory);

}  // namespace lincat::eval
