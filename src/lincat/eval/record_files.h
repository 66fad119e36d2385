// Line-based input files (JSONL, CSV) read record by record, each record carrying the line it
// starts on so that every complaint names the file and the line.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace lincat::eval {

// Where a record came from: "FILE:LINE".
struct RecordPlace {
  std::string path;
  int64_t line = 0;
  std::string describe() const { return path + ":" + std::to_string(line); }
};

// Calls visit(object, place) for every non-blank line. UserError "FILE:LINE: ..." for a line that
// is not a JSON object; UserError naming the file if it cannot be opened.
void for_each_json_line(const std::string& path,
                        const std::function<void(const nlohmann::json&, const RecordPlace&)>& visit);

// Field accessors: UserError "FILE:LINE: field 'NAME' ..." when missing or of another type.
std::string string_field(const nlohmann::json& object, const std::string& name, const RecordPlace& place);
const nlohmann::json& array_field(const nlohmann::json& object, const std::string& name, const RecordPlace& place);
// An integer, or a string holding one (datasets store labels both ways).
int64_t integer_field(const nlohmann::json& object, const std::string& name, const RecordPlace& place);

struct CsvRecord {
  std::vector<std::string> fields;
  RecordPlace place;  // the line the record starts on
};

// RFC 4180 CSV without a header: quoted fields may hold commas, doubled quotes and newlines.
// UserError "FILE:LINE: ..." for an unterminated quote or text after a closing quote.
std::vector<CsvRecord> read_csv(const std::string& path);

// The whole file; UserError naming it if it cannot be read.
std::string read_text_file(const std::string& path);

}  // namespace lincat::eval
