#include "lincat/train/examples.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "lincat/util/error.h"
#include "lincat/util/name_table.h"

namespace lincat::train {
namespace {

using nlohmann::json;

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(path + ": cannot open data file (missing or unreadable)");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) throw UserError(path + ": empty data file");
  return text;
}

std::string string_field(const json& record, const char* key, bool required, const std::string& where) {
  if (!record.contains(key) || record.at(key).is_null()) {
    if (required) throw UserError(where + ": missing string field '" + key + "'");
    return "";
  }
  if (!record.at(key).is_string()) throw UserError(where + ": field '" + key + "' must be a string");
  return record.at(key).get<std::string>();
}

Example alpaca_example(const json& record, const std::string& where) {
  const std::string instruction = string_field(record, "instruction", true, where);
  const std::string input = string_field(record, "input", false, where);
  return {alpaca_prompt(instruction, input), string_field(record, "output", true, where)};
}

// {"input_ids": [...], "labels": [...]}: ids as they are; labels -100 mark tokens that are not
// targets, any other label must equal its input id.
Example token_example(const json& record, const std::string& where) {
  const json& ids = record.at("input_ids");
  if (!ids.is_array() || ids.empty()) throw UserError(where + ": input_ids must be a non-empty list of token ids");
  Example example;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!ids[i].is_number_integer() || ids[i].get<int64_t>() < 0) {
      throw UserError(where + ": input_ids[" + std::to_string(i) + "] must be a non-negative integer, found " +
                      ids[i].dump());
    }
    example.ids.push_back(ids[i].get<int64_t>());
  }
  example.targets.assign(example.ids.size(), true);
  if (!record.contains("labels") || record.at("labels").is_null()) return example;
  const json& labels = record.at("labels");
  if (!labels.is_array() || labels.size() != ids.size()) {
    throw UserError(where + ": labels must be a list as long as input_ids (" + std::to_string(ids.size()) + ")");
  }
  for (size_t i = 0; i < labels.size(); ++i) {
    const bool ignored = labels[i].is_number_integer() && labels[i].get<int64_t>() == -100;
    const bool same = labels[i].is_number_integer() && labels[i].get<int64_t>() == example.ids[i];
    if (!ignored && !same) {
      throw UserError(where + ": labels[" + std::to_string(i) + "] must be -100 or equal input_ids[" +
                      std::to_string(i) + "], found " + labels[i].dump());
    }
    example.targets[i] = !ignored;
  }
  return example;
}

// One record of a JSONL file or JSON array, as `format` (jsonl, alpaca or auto) says.
Example parse_record(const json& record, DataFormat format, const std::string& where) {
  if (!record.is_object()) throw UserError(where + ": expected a JSON object");
  if (format != DataFormat::Alpaca && record.contains("input_ids")) return token_example(record, where);
  const bool alpaca =
      format == DataFormat::Alpaca || (format == DataFormat::Auto && record.contains("instruction"));
  if (alpaca) return alpaca_example(record, where);
  return {"", string_field(record, "text", true, where)};
}

std::vector<Example> read_jsonl(const std::string& path, const std::string& text, DataFormat format) {
  std::vector<Example> examples;
  std::istringstream lines(text);
  std::string line;
  for (int64_t number = 1; std::getline(lines, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(number);
    json record;
    try {
      record = json::parse(line);
    } catch (const json::exception& e) {  // parse_error, or out_of_range for a number beyond double
      throw UserError(where + ": invalid JSON (" + std::string(e.what()) + ")");
    }
    examples.push_back(parse_record(record, format, where));
  }
  return examples;
}

std::vector<Example> read_json_array(const std::string& path, const std::string& text, DataFormat format) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number beyond double
    throw UserError(path + ": invalid JSON (" + std::string(e.what()) + ")");
  }
  if (!root.is_array()) throw UserError(path + ": expected a JSON array of records");
  if (root.empty()) throw UserError(path + ": empty data file (no records)");
  std::vector<Example> examples;
  for (size_t i = 0; i < root.size(); ++i) {
    examples.push_back(parse_record(root[i], format, path + ": record " + std::to_string(i + 1)));
  }
  return examples;
}

}  // namespace

std::string alpaca_prompt(const std::string& instruction, const std::string& input) {
  if (input.empty()) {
    return "Below is an instruction that describes a task. Write a response that appropriately completes "
           "the request.\n\n### Instruction:\n" + instruction + "\n\n### Response:\n";
  }
  return "Below is an instruction that describes a task, paired with an input that provides further "
         "context. Write a response that appropriately completes the request.\n\n### Instruction:\n" +
         instruction + "\n\n### Input:\n" + input + "\n\n### Response:\n";
}

namespace {

const util::NameTable<DataFormat>& data_format_table() {
  static const util::NameTable<DataFormat> table = {{DataFormat::Auto, "auto"},
                                                    {DataFormat::Text, "text"},
                                                    {DataFormat::Jsonl, "jsonl"},
                                                    {DataFormat::Alpaca, "alpaca"}};
  return table;
}

}  // namespace

std::string data_format_name(DataFormat format) { return util::name_of(data_format_table(), format); }

DataFormat parse_data_format(const std::string& name) {
  return util::parse_from(data_format_table(), name, "data format");
}

std::vector<Example> read_examples(const std::string& path, const std::string& format_name) {
  const DataFormat format = parse_data_format(format_name);
  const std::string text = read_text(path);
  const std::string extension = std::filesystem::path(path).extension().string();
  if (format == DataFormat::Text || (format == DataFormat::Auto && extension != ".jsonl" && extension != ".json")) {
    return {Example{"", text}};
  }
  if (extension == ".json") return read_json_array(path, text, format);
  return read_jsonl(path, text, format);
}

PackedTokens pack_tokens(const std::vector<Example>& examples, const Encoder& encode, int64_t bos, int64_t eos,
                         int64_t length, const std::string& context) {
  if (length < 1) {
    throw UserError(context + ": sequence length " + std::to_string(length) + " (data.sequence_length) must be >= 1");
  }
  PackedTokens out;
  out.length = length;
  const auto append = [&](const std::vector<int64_t>& tokens, float target) {
    out.ids.insert(out.ids.end(), tokens.begin(), tokens.end());
    out.loss_mask.insert(out.loss_mask.end(), tokens.size(), target);
  };
  for (const Example& example : examples) {
    if (!example.ids.empty()) {
      out.ids.insert(out.ids.end(), example.ids.begin(), example.ids.end());
      for (bool target : example.targets) out.loss_mask.push_back(target ? 1.0f : 0.0f);
      continue;
    }
    if (bos >= 0) append({bos}, 0.0f);
    if (!example.prompt.empty()) append(encode(example.prompt), 0.0f);
    append(encode(example.text), 1.0f);
    if (eos >= 0) append({eos}, 1.0f);
  }
  out.count = static_cast<int64_t>(out.ids.size()) / length;
  if (out.count == 0) {
    throw UserError(context + ": the data make " + std::to_string(out.ids.size()) +
                    " tokens, too few for one sequence of " + std::to_string(length) +
                    " (data.sequence_length); give more text or a shorter sequence length");
  }
  out.ids.resize(static_cast<size_t>(out.count * length));  // the remainder is dropped
  out.loss_mask.resize(out.ids.size());
  return out;
}

}  // namespace lincat::train
