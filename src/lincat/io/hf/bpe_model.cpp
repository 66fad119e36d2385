#include "lincat/io/hf/bpe_model.h"

#include <cstdio>
#include <queue>

#include "lincat/io/hf/text.h"
#include "lincat/util/error.h"

namespace lincat::io::hf {
namespace {

// A merge's two tokens, from "a b" (split at the one space) or ["a", "b"].
std::pair<std::string, std::string> merge_parts(const Json& merge, const std::string& where) {
  if (merge.is_string()) {
    const std::string text = merge.get<std::string>();
    const size_t space = text.find(' ');
    if (space == std::string::npos || text.find(' ', space + 1) != std::string::npos) {
      throw UserError(where + ": expected two tokens separated by one space, found \"" + text + "\"");
    }
    return {text.substr(0, space), text.substr(space + 1)};
  }
  if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()) {
    return {merge[0].get<std::string>(), merge[1].get<std::string>()};
  }
  throw UserError(where + ": expected \"a b\" or [\"a\", \"b\"], found " + merge.dump());
}

// The symbols of a word: a doubly linked list over the initial tokens.
struct Symbol {
  int32_t id;
  int32_t previous, next;  // -1 at the ends
  bool removed;
};

struct Candidate {
  int32_t rank;
  int32_t position;
  int32_t id;
  bool operator>(const Candidate& other) const {
    return rank != other.rank ? rank > other.rank : position > other.position;
  }
};

}  // namespace

BpeModel::BpeModel(const Json& model, const std::string& where) {
  const std::string at = where + ": model";
  const Json& vocab = require(model, "vocab", at);
  if (!vocab.is_object()) throw UserError(at + ".vocab: expected an object of token: id");
  std::unordered_map<int64_t, std::string> seen_ids;
  vocab_.reserve(vocab.size());
  for (const auto& [token, id] : vocab.items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX) {
      throw UserError(at + ".vocab[\"" + token + "\"]: expected a non-negative integer id, found " + id.dump());
    }
    const auto [previous, fresh] = seen_ids.emplace(id.get<int64_t>(), token);
    if (!fresh) {
      throw UserError(at + ".vocab: id " + std::to_string(id.get<int64_t>()) + " is given to both \"" +
                      previous->second + "\" and \"" + token + "\"");
    }
    vocab_.emplace(token, static_cast<int32_t>(id.get<int64_t>()));
  }
  if (model.contains("dropout") && !model["dropout"].is_null() &&
      !(model["dropout"].is_number() && model["dropout"].get<double>() == 0.0)) {
    throw UserError(at + ".dropout: BPE dropout (random merges) is not supported; set it to null");
  }
  continuing_subword_prefix_ = optional_string(model, "continuing_subword_prefix", "", at);
  end_of_word_suffix_ = optional_string(model, "end_of_word_suffix", "", at);
  fuse_unk_ = optional_bool(model, "fuse_unk", false, at);
  byte_fallback_ = optional_bool(model, "byte_fallback", false, at);
  ignore_merges_ = optional_bool(model, "ignore_merges", false, at);
  const std::string unk = optional_string(model, "unk_token", "", at);
  if (!unk.empty()) {
    const auto found = vocab_.find(unk);
    if (found == vocab_.end()) throw UserError(at + ".unk_token: \"" + unk + "\" is not in model.vocab");
    unk_id_ = found->second;
  }
  byte_ids_.assign(256, -1);
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    const auto found = vocab_.find(name);
    if (found != vocab_.end()) byte_ids_[b] = found->second;
  }

  const Json& merges = require(model, "merges", at);
  if (!merges.is_array()) throw UserError(at + ".merges: expected a list");
  merges_.reserve(merges.size());
  const size_t prefix_length = continuing_subword_prefix_.size();
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string field = at + ".merges[" + std::to_string(rank) + "]";
    const auto [left, right] = merge_parts(merges[rank], field);
    auto id_of_part = [&](const std::string& token) {
      const auto found = vocab_.find(token);
      if (found == vocab_.end()) throw UserError(field + ": token \"" + token + "\" is not in model.vocab");
      return found->second;
    };
    // With a continuing-subword prefix ("##"), the right part loses it in the merged token.
    const int32_t left_id = id_of_part(left), right_id = id_of_part(right);
    const bool strip = prefix_length > 0 && right.compare(0, prefix_length, continuing_subword_prefix_) == 0;
    const int32_t merged = id_of_part(left + (strip ? right.substr(prefix_length) : right));
    merges_[pair_key(left_id, right_id)] = {static_cast<int32_t>(rank), merged};
  }
}

std::optional<int64_t> BpeModel::id_of(const std::string& token) const {
  const auto found = vocab_.find(token);
  if (found == vocab_.end()) return std::nullopt;
  return found->second;
}

void BpeModel::initial_symbols(const std::string& word, std::vector<int32_t>& symbols) const {
  std::optional<std::pair<int32_t, size_t>> pending_unk;  // id, bytes covered
  std::string unit;
  for (size_t at = 0; at < word.size();) {
    const size_t length = std::min(utf8_length(static_cast<unsigned char>(word[at])), word.size() - at);
    unit.assign(word, at, length);
    if (at > 0 && !continuing_subword_prefix_.empty()) unit.insert(0, continuing_subword_prefix_);
    at += length;
    if (at == word.size() && !end_of_word_suffix_.empty()) unit += end_of_word_suffix_;
    const auto found = vocab_.find(unit);
    if (found != vocab_.end()) {
      if (pending_unk) symbols.push_back(pending_unk->first), pending_unk.reset();
      symbols.push_back(found->second);
      continue;
    }
    if (byte_fallback_) {
      bool all_bytes = true;
      for (unsigned char b : unit) all_bytes = all_bytes && byte_ids_[b] >= 0;
      if (all_bytes) {
        for (unsigned char b : unit) symbols.push_back(byte_ids_[b]);
        continue;
      }
    }
    // Without an unknown token, a character outside the vocabulary is dropped (as in Hugging Face).
    if (!unk_id_) continue;
    if (pending_unk && fuse_unk_) {
      pending_unk->second += length;
    } else {
      if (pending_unk) symbols.push_back(pending_unk->first);
      pending_unk = std::make_pair(*unk_id_, length);
    }
  }
  if (pending_unk) symbols.push_back(pending_unk->first);
}

void BpeModel::merge_word(const std::string& word, std::vector<int32_t>& ids) const {
  std::vector<int32_t> initial;
  initial.reserve(word.size());
  initial_symbols(word, initial);
  const auto n = static_cast<int32_t>(initial.size());
  std::vector<Symbol> symbols(n);
  for (int32_t i = 0; i < n; ++i) symbols[i] = {initial[i], i - 1, i + 1 < n ? i + 1 : -1, false};

  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  auto consider = [&](int32_t position) {
    if (position < 0) return;
    const int32_t next = symbols[position].next;
    if (next < 0) return;
    const auto found = merges_.find(pair_key(symbols[position].id, symbols[next].id));
    if (found != merges_.end()) queue.push({found->second.rank, position, found->second.id});
  };
  for (int32_t i = 0; i + 1 < n; ++i) consider(i);
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.position];
    if (left.removed || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    // A stale entry: one of the two symbols has changed since it was queued.
    const auto found = merges_.find(pair_key(left.id, right.id));
    if (found == merges_.end() || found->second.id != top.id) continue;
    left.id = top.id;
    right.removed = true;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].previous = top.position;
    consider(left.previous);
    consider(top.position);
  }
  for (const Symbol& s : symbols) {
    if (!s.removed) ids.push_back(s.id);
  }
}

void BpeModel::tokenize(const std::string& word, std::vector<int64_t>& out) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    const auto found = vocab_.find(word);
    if (found != vocab_.end()) {
      out.push_back(found->second);
      return;
    }
  }
  const bool cacheable = word.size() < kCacheableLength;
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    const auto found = cache_.find(word);
    if (found != cache_.end()) {
      out.insert(out.end(), found->second.begin(), found->second.end());
      return;
    }
  }
  std::vector<int32_t> ids;
  merge_word(word, ids);
  out.insert(out.end(), ids.begin(), ids.end());
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_.size() < kCacheCapacity) cache_.emplace(word, std::move(ids));
  }
}

}  // namespace lincat::io::hf
