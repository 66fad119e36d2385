// The tokenizer every command uses: a Hugging Face tokenizer.json (byte-level or
// SentencePiece-style BPE, see hf_tokenizer.h) or a SentencePiece tokenizer.model (run inside a
// separately loaded module, see src/spm_module/spm_module.h for why).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lincat::io {

class Tokenizer {
 public:
  // `path`: a tokenizer.json, a tokenizer.model, or a directory holding one of them
  // (tokenizer.json preferred). UserError naming the file if it is missing or not a tokenizer.
  static std::unique_ptr<Tokenizer> load(const std::string& path);
  // The file load(directory) would read, or "" when the directory has neither.
  static std::string find_in(const std::string& directory);
  // The tokenizer file `path` names: itself, or what find_in finds in a directory (UserError if none).
  static std::string resolve(const std::string& path);
  virtual ~Tokenizer() = default;

  // The ids of `text` without added special tokens (Hugging Face's add_special_tokens=False).
  // Special tokens written in the text are still recognised as Hugging Face recognises them.
  virtual std::vector<int64_t> encode(const std::string& text) const = 0;
  // As Hugging Face's tokenizer(text): with the special tokens this tokenizer puts around a text
  // (Llama's BOS in front).
  std::vector<int64_t> encode_with_special(const std::string& text) const;
  // UserError on ids out of range. `skip_special` leaves out special tokens.
  virtual std::string decode(const std::vector<int64_t>& ids, bool skip_special = false) const = 0;
  virtual std::string piece(int64_t id) const = 0;
  virtual int64_t vocab_size() const = 0;
  virtual int64_t bos_id() const = 0;  // -1 if none
  virtual int64_t eos_id() const = 0;  // -1 if none
  // What encode_with_special puts before and after the text.
  const std::vector<int64_t>& special_prefix() const { return special_prefix_; }
  const std::vector<int64_t>& special_suffix() const { return special_suffix_; }
  // Whether encode_with_special starts with BOS.
  bool adds_bos() const { return !special_prefix_.empty() && special_prefix_.front() == bos_id(); }
  // "tokenizer.json (BPE, 128256 tokens)" or "SentencePiece (32000 pieces)".
  virtual std::string describe() const = 0;
  const std::string& path() const { return path_; }

  // Trains a SentencePiece model with its trainer flags ("--input=a.txt --model_prefix=out ...").
  static void train(const std::string& flags);

 protected:
  std::string path_;
  std::vector<int64_t> special_prefix_, special_suffix_;
};

// Copies the tokenizer `path` (file or directory) into `directory` under its usual name
// (tokenizer.json, with the tokenizer_config.json beside it, or tokenizer.model), unless it is
// already that file. Returns the tokenizer file in `directory`.
std::string copy_tokenizer(const std::string& path, const std::string& directory);

}  // namespace lincat::io
