// Tokenised data cached by content: a second run over the same files, tokenizer, format and
// sequence length reads the packed sequences back instead of tokenising again.
#pragma once
#include <string>
#include <vector>

#include "lincat/train/data.h"

namespace lincat::train {

struct TokenisedData {
  TokenSequences sequences;
  bool from_cache = false;
  std::string cache_file;  // <cache_dir>/tokens-<hash>.safetensors
};

// $LINCAT_CACHE_DIR, else $XDG_CACHE_HOME/lincat, else ~/.cache/lincat.
std::string default_cache_dir();

// Reads, tokenises (with the tokenizer file `tokenizer_path`, "" when every record is
// pre-tokenised) and packs `paths`, or loads the result of an earlier identical call from
// `cache_dir`.
TokenisedData tokenise_with_cache(const std::vector<std::string>& paths, const std::string& format,
                                  const std::string& tokenizer_path, int64_t sequence_length,
                                  const std::string& cache_dir);

}  // namespace lincat::train
