// The Encoder evaluation uses: a SentencePiece tokenizer, with the model's BOS in front as
// Hugging Face tokenizers add it for Llama and Mistral.
#pragma once
#include <string>

#include "lincat/eval/scorer.h"
#include "lincat/io/tokenizer.h"
#include "lincat/model/model.h"

namespace lincat::eval {

// The BOS id: the tokenizer's, else config.json's bos_token_id, else none (-1).
int64_t bos_token(const io::Tokenizer& tokenizer, const Model& model);

// encode(text) = [BOS] + tokenizer ids. `tokenizer` must outlive the encoder.
Encoder bos_encoder(const io::Tokenizer& tokenizer, const Model& model);

// `flag_value` if set, else MODEL/tokenizer.model; UserError saying which when it is missing.
std::string tokenizer_path(const std::string& flag_value, const Model& model);

}  // namespace lincat::eval
