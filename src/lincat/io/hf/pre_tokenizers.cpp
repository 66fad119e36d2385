// tokenizer.json pre-tokenizers: Sequence, Split, ByteLevel, Metaspace, Digits. Splitting follows
// Hugging Face's tokenizers: a piece is cut into matches and the text between them, the
// behaviour decides what is kept and merged, and empty pieces are dropped.
#include "lincat/io/hf/components.h"
#include "lincat/io/hf/text.h"
#include "lincat/util/error.h"

namespace lincat::io::hf {
namespace {

enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

Behavior behavior_of(const Json& config, const std::string& where) {
  const std::string name = require_string(config, "behavior", where);
  if (name == "Removed") return Behavior::Removed;
  if (name == "Isolated") return Behavior::Isolated;
  if (name == "MergedWithPrevious") return Behavior::MergedWithPrevious;
  if (name == "MergedWithNext") return Behavior::MergedWithNext;
  if (name == "Contiguous") return Behavior::Contiguous;
  throw UserError(where + ".behavior: unknown split behaviour '" + name +
                  "' (expected Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous)");
}

struct Span {
  size_t begin, end;
  bool is_match;
};

// The spans of `matches` and of the text between them, covering [0, size).
std::vector<Span> cover(const std::vector<std::pair<size_t, size_t>>& matches, size_t size, bool invert) {
  std::vector<Span> spans;
  size_t previous = 0;
  for (const auto& [begin, end] : matches) {
    if (previous < begin) spans.push_back({previous, begin, invert});
    spans.push_back({begin, end, !invert});
    previous = end;
  }
  if (previous < size) spans.push_back({previous, size, invert});
  return spans;
}

std::vector<Span> apply(Behavior behavior, std::vector<Span> spans) {
  std::vector<Span> out;
  switch (behavior) {
    case Behavior::Isolated:
      return spans;
    case Behavior::Removed:
      for (const Span& s : spans) {
        if (!s.is_match) out.push_back(s);
      }
      return out;
    case Behavior::Contiguous:
      for (const Span& s : spans) {
        if (!out.empty() && out.back().is_match == s.is_match) {
          out.back().end = s.end;
        } else {
          out.push_back(s);
        }
      }
      return out;
    case Behavior::MergedWithPrevious: {
      bool previous_match = false;
      for (const Span& s : spans) {
        if (s.is_match && !previous_match && !out.empty()) {
          out.back().end = s.end;
        } else {
          out.push_back({s.begin, s.end, false});
        }
        previous_match = s.is_match;
      }
      return out;
    }
    case Behavior::MergedWithNext: {
      bool previous_match = false;
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->is_match && !previous_match && !out.empty()) {
          out.back().begin = it->begin;
        } else {
          out.push_back({it->begin, it->end, false});
        }
        previous_match = it->is_match;
      }
      return {out.rbegin(), out.rend()};
    }
  }
  return spans;
}

// Replaces each free piece by the non-empty pieces `split` cuts it into.
template <typename SplitFn>
void split_free_pieces(std::vector<Piece>& pieces, SplitFn split) {
  std::vector<Piece> out;
  out.reserve(pieces.size());
  for (Piece& piece : pieces) {
    if (piece.id >= 0) {
      out.push_back(std::move(piece));
      continue;
    }
    for (const Span& s : split(piece)) {
      if (s.end <= s.begin) continue;
      out.push_back({piece.text.substr(s.begin, s.end - s.begin), piece.at_text_start && s.begin == 0, -1});
    }
  }
  pieces = std::move(out);
}

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> parts) : parts_(std::move(parts)) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    for (const auto& part : parts_) part->pre_tokenize(pieces);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> parts_;
};

class SplitPreTokenizer : public PreTokenizer {
 public:
  SplitPreTokenizer(Regex pattern, Behavior behavior, bool invert)
      : pattern_(std::move(pattern)), behavior_(behavior), invert_(invert) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    split_free_pieces(pieces, [&](const Piece& piece) {
      return apply(behavior_, cover(pattern_.find_all(piece.text), piece.text.size(), invert_));
    });
  }

 private:
  Regex pattern_;
  Behavior behavior_;
  bool invert_;
};

// GPT-2's pattern, which ByteLevel splits with when its use_regex is on.
constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex, const std::string& where)
      : add_prefix_space_(add_prefix_space) {
    if (use_regex) pattern_ = std::make_unique<Regex>(kGpt2Pattern, where);
  }
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    if (add_prefix_space_) {
      for (Piece& piece : pieces) {
        if (piece.id < 0 && !piece.text.empty() && piece.text[0] != ' ') piece.text.insert(0, " ");
      }
    }
    if (pattern_) {
      split_free_pieces(pieces, [&](const Piece& piece) {
        return cover(pattern_->find_all(piece.text), piece.text.size(), false);
      });
    }
    for (Piece& piece : pieces) {
      if (piece.id < 0) piece.text = to_byte_level(piece.text);
    }
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Regex> pattern_;
};

enum class PrependScheme { Always, Never, First };

class MetaspacePreTokenizer : public PreTokenizer {
 public:
  MetaspacePreTokenizer(std::string replacement, PrependScheme scheme, bool split, const std::string& where)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split),
        pattern_(Regex::literal(replacement_, where + ".replacement")) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    for (Piece& piece : pieces) {
      if (piece.id >= 0) continue;
      std::string replaced;
      replaced.reserve(piece.text.size() + replacement_.size());
      for (char c : piece.text) {
        if (c == ' ') {
          replaced += replacement_;
        } else {
          replaced += c;
        }
      }
      const bool prepend = scheme_ == PrependScheme::Always || (scheme_ == PrependScheme::First && piece.at_text_start);
      if (prepend && replaced.compare(0, replacement_.size(), replacement_) != 0) replaced.insert(0, replacement_);
      piece.text = std::move(replaced);
    }
    if (split_) {
      split_free_pieces(pieces, [&](const Piece& piece) {
        return apply(Behavior::MergedWithNext, cover(pattern_.find_all(piece.text), piece.text.size(), false));
      });
    }
  }

 private:
  std::string replacement_;
  PrependScheme scheme_;
  bool split_;
  Regex pattern_;
};

}  // namespace


std::unique_ptr<PreTokenizer> make_pre_tokenizer(const Json& config, const std::string& where) {
  if (config.is_null()) return nullptr;
  const std::string type = type_of(config, where);
  if (type == "Sequence") {
    return std::make_unique<SequencePreTokenizer>(make_parts<PreTokenizer>(config, "pretokenizers", where, make_pre_tokenizer));
  }
  if (type == "Split") {
    return std::make_unique<SplitPreTokenizer>(pattern_of(config, where), behavior_of(config, where),
                                               optional_bool(config, "invert", false, where));
  }
  if (type == "ByteLevel") {
    return std::make_unique<ByteLevelPreTokenizer>(optional_bool(config, "add_prefix_space", true, where),
                                                   optional_bool(config, "use_regex", true, where), where);
  }
  if (type == "Metaspace") {
    const std::string replacement = require_string(config, "replacement", where);
    if (replacement.empty()) throw UserError(where + ".replacement: empty");
    PrependScheme scheme = PrependScheme::Always;
    const std::string name = optional_string(config, "prepend_scheme", "", where);
    if (name == "always") {
      scheme = PrependScheme::Always;
    } else if (name == "never") {
      scheme = PrependScheme::Never;
    } else if (name == "first") {
      scheme = PrependScheme::First;
    } else if (name.empty()) {
      scheme = optional_bool(config, "add_prefix_space", true, where) ? PrependScheme::Always : PrependScheme::Never;
    } else {
      throw UserError(where + ".prepend_scheme: unknown '" + name + "' (expected always, never or first)");
    }
    return std::make_unique<MetaspacePreTokenizer>(replacement, scheme, optional_bool(config, "split", true, where),
                                                   where);
  }
  if (type == "Digits") {
    // Rust's char::is_numeric is the Unicode N categories: each digit alone, or runs of them.
    const bool individual = optional_bool(config, "individual_digits", false, where);
    return std::make_unique<SplitPreTokenizer>(Regex(individual ? "\\p{N}" : "\\p{N}+", where), Behavior::Isolated,
                                               false);
  }
  refuse(where, "pre-tokenizer", type, "Sequence, Split, ByteLevel, Metaspace, Digits");
}

}  // namespace lincat::io::hf
