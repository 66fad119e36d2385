// The Encoder evaluation uses: the model's tokenizer (tokenizer.json or tokenizer.model), with
// BOS in front when the tokenizer puts it there (as Hugging Face's tokenizer(text) does for
// Llama-2, Llama-3.1 and Mistral), or as --add-bos says.
#pragma once
#include <string>

#include "lincat/eval/scorer.h"
#include "lincat/io/tokenizer.h"
#include "lincat/model/model.h"

namespace lincat::eval {

// The BOS id: the tokenizer's, else config.json's bos_token_id, else none (-1).
int64_t bos_token(const io::Tokenizer& tokenizer, const Model& model);

// --add-bos: auto follows the tokenizer (Tokenizer::adds_bos), yes and no force it.
enum class AddBos { Auto, Yes, No };
AddBos parse_add_bos(const std::string& value);  // SettingError naming add_bos
std::string add_bos_name(AddBos add_bos);        // "auto", "yes", "no"
// Whether `add_bos` puts a BOS in front with this tokenizer and model.
bool adds_bos(AddBos add_bos, const io::Tokenizer& tokenizer, const Model& model);

// encode(text) = [BOS if adds_bos] + tokenizer ids. `tokenizer` must outlive the encoder.
Encoder bos_encoder(const io::Tokenizer& tokenizer, const Model& model, AddBos add_bos = AddBos::Auto);

// `given` if set, else MODEL/tokenizer.json, else MODEL/tokenizer.model; UserError when
// there is none.
std::string tokenizer_path(const std::string& given, const Model& model);

}  // namespace lincat::eval
