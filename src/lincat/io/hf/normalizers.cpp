// tokenizer.json normalizers: Sequence, Prepend, Replace, and the Unicode normal forms (ICU).
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include "lincat/io/hf/components.h"
#include "lincat/io/hf/regex.h"
#include "lincat/util/error.h"

namespace lincat::io::hf {
namespace {

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> parts) : parts_(std::move(parts)) {}
  void normalize(std::string& text) const override {
    for (const auto& part : parts_) part->normalize(text);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> parts_;
};

class PrependNormalizer : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prefix) : prefix_(std::move(prefix)) {}
  void normalize(std::string& text) const override {
    if (!text.empty()) text.insert(0, prefix_);
  }

 private:
  std::string prefix_;
};

class ReplaceNormalizer : public Normalizer {
 public:
  ReplaceNormalizer(Regex pattern, std::string content) : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void normalize(std::string& text) const override { replace_all(pattern_, content_, text); }

 private:
  Regex pattern_;
  std::string content_;
};

// NFC, NFD, NFKC, NFKD through ICU (UTF-8 -> UTF-16 -> normalised -> UTF-8).
class UnicodeNormalizer : public Normalizer {
 public:
  UnicodeNormalizer(const UNormalizer2* normalizer, std::string name) : normalizer_(normalizer), name_(std::move(name)) {}
  void normalize(std::string& text) const override {
    if (text.empty()) return;
    UErrorCode status = U_ZERO_ERROR;
    int32_t length = 0;
    u_strFromUTF8(nullptr, 0, &length, text.data(), static_cast<int32_t>(text.size()), &status);
    std::u16string wide(length, u'\0');
    status = U_ZERO_ERROR;
    u_strFromUTF8(wide.data(), length, nullptr, text.data(), static_cast<int32_t>(text.size()), &status);
    check(status);
    // NFKC can grow a character up to 18 times; ask ICU for the size first.
    status = U_ZERO_ERROR;
    const int32_t needed = unorm2_normalize(normalizer_, wide.data(), length, nullptr, 0, &status);
    std::u16string normal(needed, u'\0');
    status = U_ZERO_ERROR;
    unorm2_normalize(normalizer_, wide.data(), length, normal.data(), needed, &status);
    check(status);
    int32_t bytes = 0;
    status = U_ZERO_ERROR;
    u_strToUTF8(nullptr, 0, &bytes, normal.data(), needed, &status);
    std::string out(bytes, '\0');
    status = U_ZERO_ERROR;
    u_strToUTF8(out.data(), bytes, nullptr, normal.data(), needed, &status);
    check(status);
    text = std::move(out);
  }

 private:
  void check(UErrorCode status) const {
    if (U_FAILURE(status)) throw UserError("tokenizer: " + name_ + " normalisation failed (" + u_errorName(status) + ")");
  }
  const UNormalizer2* normalizer_;
  std::string name_;
};

std::unique_ptr<Normalizer> unicode_normalizer(const std::string& type, const std::string& where) {
  UErrorCode status = U_ZERO_ERROR;
  const UNormalizer2* normalizer = type == "NFC"    ? unorm2_getNFCInstance(&status)
                                   : type == "NFD"  ? unorm2_getNFDInstance(&status)
                                   : type == "NFKC" ? unorm2_getNFKCInstance(&status)
                                                    : unorm2_getNFKDInstance(&status);
  if (U_FAILURE(status)) throw UserError(where + ": ICU has no " + type + " data (" + u_errorName(status) + ")");
  return std::make_unique<UnicodeNormalizer>(normalizer, type);
}

}  // namespace

// A {"String": s} or {"Regex": r} pattern, as Replace and Split write it.
Regex pattern_of(const Json& owner, const std::string& where) {
  const Json& pattern = require(owner, "pattern", where);
  if (pattern.is_object() && pattern.contains("String")) {
    return Regex::literal(require_string(pattern, "String", where + ".pattern"), where + ".pattern.String");
  }
  if (pattern.is_object() && pattern.contains("Regex")) {
    return Regex(require_string(pattern, "Regex", where + ".pattern"), where + ".pattern.Regex");
  }
  throw UserError(where + ".pattern: expected {\"String\": ...} or {\"Regex\": ...}");
}

std::unique_ptr<Normalizer> make_normalizer(const Json& config, const std::string& where) {
  if (config.is_null()) return nullptr;
  const std::string type = type_of(config, where);
  if (type == "Sequence") {
    return std::make_unique<SequenceNormalizer>(make_parts<Normalizer>(config, "normalizers", where, make_normalizer));
  }
  if (type == "Prepend") return std::make_unique<PrependNormalizer>(require_string(config, "prepend", where));
  if (type == "Replace") {
    return std::make_unique<ReplaceNormalizer>(pattern_of(config, where), require_string(config, "content", where));
  }
  if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") return unicode_normalizer(type, where);
  refuse(where, "normalizer", type, "Sequence, Prepend, Replace, NFC, NFD, NFKC, NFKD");
}

}  // namespace lincat::io::hf
