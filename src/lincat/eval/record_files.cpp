#include "lincat/eval/record_files.h"

#include <fstream>
#include <sstream>

#include "lincat/util/atomic_file.h"
#include "lincat/util/error.h"

namespace lincat::eval {
namespace {

[[noreturn]] void fail(const RecordPlace& place, const std::string& what) {
  throw UserError(place.describe() + ": " + what);
}

const nlohmann::json& field(const nlohmann::json& object, const std::string& name, const RecordPlace& place) {
  const auto it = object.find(name);
  if (it == object.end()) fail(place, "missing field '" + name + "'");
  return *it;
}

}  // namespace

std::string read_text_file(const std::string& path) { return read_whole_file(path); }

void for_each_json_line(const std::string& path,
                        const std::function<void(const nlohmann::json&, const RecordPlace&)>& visit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(path + ": cannot open file");
  std::string line;
  RecordPlace place{path, 0};
  while (std::getline(in, line)) {
    ++place.line;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json object;
    try {
      object = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for a number beyond double
      fail(place, std::string("not valid JSON (") + e.what() + ")");
    }
    if (!object.is_object()) fail(place, "expected a JSON object, found " + std::string(object.type_name()));
    visit(object, place);
  }
}

std::string string_field(const nlohmann::json& object, const std::string& name, const RecordPlace& place) {
  const nlohmann::json& value = field(object, name, place);
  if (!value.is_string()) fail(place, "field '" + name + "' should be a string, found " + value.type_name());
  return value.get<std::string>();
}

const nlohmann::json& array_field(const nlohmann::json& object, const std::string& name, const RecordPlace& place) {
  const nlohmann::json& value = field(object, name, place);
  if (!value.is_array()) fail(place, "field '" + name + "' should be an array, found " + value.type_name());
  return value;
}

int64_t integer_field(const nlohmann::json& object, const std::string& name, const RecordPlace& place) {
  const nlohmann::json& value = field(object, name, place);
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_string()) {
    const std::string text = value.get<std::string>();
    size_t used = 0;
    try {
      const long long parsed = std::stoll(text, &used);
      if (used == text.size()) return parsed;
    } catch (const std::exception&) {
    }
  }
  fail(place, "field '" + name + "' should be an integer, found " + value.dump());
}

std::vector<CsvRecord> read_csv(const std::string& path) {
  const std::string text = read_text_file(path);
  std::vector<CsvRecord> records;
  int64_t line = 1;
  size_t i = 0;
  while (i < text.size()) {
    CsvRecord record{{}, {path, line}};
    std::string field_text;
    bool at_end_of_record = false;
    while (!at_end_of_record) {
      if (i < text.size() && text[i] == '"') {  // quoted field
        const int64_t opened_on = line;
        ++i;
        while (true) {
          if (i >= text.size()) fail({path, opened_on}, "unterminated quoted field");
          if (text[i] == '"') {
            if (i + 1 < text.size() && text[i + 1] == '"') {
              field_text += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (text[i] == '\n') ++line;
          field_text += text[i++];
        }
        if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
          fail({path, line}, "unexpected text after a closing quote");
        }
      } else {
        while (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') field_text += text[i++];
      }
      record.fields.push_back(std::move(field_text));
      field_text.clear();
      if (i < text.size() && text[i] == ',') {
        ++i;
        continue;
      }
      if (i < text.size() && text[i] == '\r') ++i;
      if (i < text.size() && text[i] == '\n') ++i;
      ++line;
      at_end_of_record = true;
    }
    const bool blank = record.fields.size() == 1 && record.fields[0].empty();
    if (!blank) records.push_back(std::move(record));
  }
  return records;
}

}  // namespace lincat::eval
