// A SentencePiece tokenizer (Hugging Face `tokenizer.model`). SentencePiece itself runs inside a
// separately loaded module (see src/spm_module/spm_module.h for why).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct lincat_spm;

namespace lincat::io {

class Tokenizer {
 public:
  // Loads `path`; UserError naming the file if it is missing or not a SentencePiece model.
  static std::unique_ptr<Tokenizer> load(const std::string& path);
  ~Tokenizer();

  std::vector<int64_t> encode(const std::string& text) const;  // no BOS/EOS added
  std::string decode(const std::vector<int64_t>& ids) const;   // UserError on ids out of range
  std::string piece(int64_t id) const;
  int64_t vocab_size() const;
  int64_t bos_id() const;  // -1 if none
  int64_t eos_id() const;  // -1 if none

  // Trains a model with SentencePiece's trainer flags ("--input=a.txt --model_prefix=out ...").
  static void train(const std::string& flags);

 private:
  explicit Tokenizer(lincat_spm* handle) : handle_(handle) {}
  lincat_spm* handle_;
};

}  // namespace lincat::io
