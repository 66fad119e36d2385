// tokenizer.json post-processors, for one sequence: TemplateProcessing, RobertaProcessing,
// BertProcessing, ByteLevel (ids unchanged) and Sequence of them. The pair template is not needed:
// lincat encodes single texts.
#include "lincat/io/hf/components.h"
#include "lincat/util/error.h"

namespace lincat::io::hf {
namespace {

SpecialTokenFrame template_frame(const Json& config, const std::string& where) {
  const Json& single = require(config, "single", where);
  if (!single.is_array()) throw UserError(where + ".single: expected a list of SpecialToken and Sequence items");
  const Json& special_tokens = require(config, "special_tokens", where);
  SpecialTokenFrame frame;
  bool seen_sequence = false;
  for (size_t i = 0; i < single.size(); ++i) {
    const std::string at = where + ".single[" + std::to_string(i) + "]";
    const Json& item = single[i];
    if (item.is_object() && item.contains("Sequence")) {
      if (require_string(item["Sequence"], "id", at + ".Sequence") != "A") {
        throw UserError(at + ".Sequence.id: a single-sequence template can only hold sequence A");
      }
      if (seen_sequence) throw UserError(at + ": sequence A appears twice");
      seen_sequence = true;
      continue;
    }
    if (!item.is_object() || !item.contains("SpecialToken")) {
      throw UserError(at + ": expected {\"SpecialToken\": ...} or {\"Sequence\": ...}");
    }
    const std::string name = require_string(item["SpecialToken"], "id", at + ".SpecialToken");
    const std::string entry = where + ".special_tokens[\"" + name + "\"]";
    if (!special_tokens.is_object() || !special_tokens.contains(name)) throw UserError(entry + ": missing");
    const Json& ids = require(special_tokens[name], "ids", entry);
    if (!ids.is_array()) throw UserError(entry + ".ids: expected a list of ids");
    for (const Json& id : ids) {
      if (!id.is_number_unsigned()) throw UserError(entry + ".ids: expected non-negative integers");
      (seen_sequence ? frame.suffix : frame.prefix).push_back(id.get<int64_t>());
    }
  }
  if (!seen_sequence) throw UserError(where + ".single: no {\"Sequence\": {\"id\": \"A\"}} item");
  return frame;
}

// Bert and Roberta processors name their tokens as [token, id].
int64_t named_id(const Json& config, const char* key, const std::string& where) {
  const Json& pair = require(config, key, where);
  if (!pair.is_array() || pair.size() != 2 || !pair[1].is_number_unsigned()) {
    throw UserError(where + "." + key + ": expected [token, id]");
  }
  return pair[1].get<int64_t>();
}

}  // namespace

SpecialTokenFrame make_post_processor(const Json& config, const std::string& where) {
  if (config.is_null()) return {};
  const std::string type = type_of(config, where);
  if (type == "TemplateProcessing") return template_frame(config, where);
  if (type == "ByteLevel") return {};
  if (type == "RobertaProcessing" || type == "BertProcessing") {
    return {{named_id(config, "cls", where)}, {named_id(config, "sep", where)}};
  }
  if (type == "Sequence") {
    const Json& list = require(config, "processors", where);
    if (!list.is_array()) throw UserError(where + ".processors: expected a list");
    SpecialTokenFrame frame;
    for (size_t i = 0; i < list.size(); ++i) {
      const SpecialTokenFrame outer = make_post_processor(list[i], where + ".processors[" + std::to_string(i) + "]");
      frame.prefix.insert(frame.prefix.begin(), outer.prefix.begin(), outer.prefix.end());
      frame.suffix.insert(frame.suffix.end(), outer.suffix.begin(), outer.suffix.end());
    }
    return frame;
  }
  refuse(where, "post-processor", type, "TemplateProcessing, RobertaProcessing, BertProcessing, ByteLevel, Sequence");
}

}  // namespace lincat::io::hf
