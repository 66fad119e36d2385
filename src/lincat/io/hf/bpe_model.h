// tokenizer.json's BPE model: vocabulary, ranked merges, byte fallback and unknown-token rules as
// Hugging Face's tokenizers apply them. A word is merged with a priority queue of candidate pairs
// (lowest rank first, then leftmost), so a word of n characters costs O(n log n), not a rescan of
// the word per merge; results for short words are cached.
#pragma once
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "lincat/io/hf/components.h"

namespace lincat::io::hf {

class BpeModel {
 public:
  // `where` names the file ("tokenizer.json"); errors add the field: "model.merges[12]".
  BpeModel(const Json& model, const std::string& where);

  // Appends the ids of `word` (one pre-tokenised piece) to `out`.
  void tokenize(const std::string& word, std::vector<int64_t>& out) const;

  std::optional<int64_t> id_of(const std::string& token) const;
  // The vocabulary as (token, id) pairs, for the tokenizer's id -> token table.
  const std::unordered_map<std::string, int32_t>& vocabulary() const { return vocab_; }

 private:
  struct MergeTarget {
    int32_t rank;
    int32_t id;
  };
  static uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }
  void merge_word(const std::string& word, std::vector<int32_t>& symbols) const;
  void initial_symbols(const std::string& word, std::vector<int32_t>& symbols) const;

  std::unordered_map<std::string, int32_t> vocab_;
  std::unordered_map<uint64_t, MergeTarget> merges_;
  std::optional<int32_t> unk_id_;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  std::string continuing_subword_prefix_;
  std::string end_of_word_suffix_;
  std::vector<int32_t> byte_ids_;  // <0xXX> for each byte, -1 where missing

  static constexpr size_t kCacheCapacity = 100000;  // words
  static constexpr size_t kCacheableLength = 256;   // bytes
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace lincat::io::hf
