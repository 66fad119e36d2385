// Training a SentencePiece tokenizer on the training data (through the dlmopen'd module, see
// io/tokenizer.h), for models trained from scratch.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "lincat/train/pretrain_config.h"

namespace lincat::train {

struct TokenizerTrainingReport {
  int64_t lines = 0;        // sentences given to the trainer
  int64_t split_lines = 0;  // input lines longer than the trainer's max_sentence_length, split
};

// Trains on the documents of `data` (read as `format`) and writes the model to `model_path`
// atomically. Lines over the sentence-length limit are split at spaces rather than silently
// dropped by SentencePiece. UserError if the data are unreadable or the trainer refuses.
TokenizerTrainingReport train_tokenizer(const std::vector<std::string>& data, const std::string& format,
                                        const TokenizerSettings& settings, uint64_t seed,
                                        const std::string& model_path);

}  // namespace lincat::train
