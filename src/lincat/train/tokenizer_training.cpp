#include "lincat/train/tokenizer_training.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "lincat/io/tokenizer.h"
#include "lincat/train/data.h"
#include "lincat/util/atomic_file.h"
#include "lincat/util/error.h"

namespace lincat::train {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxSentenceBytes = 1 << 16;  // SentencePiece drops longer sentences silently

// A temporary directory, removed with everything in it when this goes out of scope.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "lincat-spm-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw UserError(pattern + ": cannot create a temporary directory");
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Writes `text` line by line, cutting lines over the limit at spaces (or anywhere, if none).
void write_lines(std::ostream& out, const std::string& text, TokenizerTrainingReport& report) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (line.size() > kMaxSentenceBytes) ++report.split_lines;
    while (line.size() > kMaxSentenceBytes) {
      size_t cut = line.rfind(' ', kMaxSentenceBytes);
      if (cut == std::string::npos || cut == 0) cut = kMaxSentenceBytes;
      out << line.substr(0, cut) << '\n';
      ++report.lines;
      line.erase(0, cut);
    }
    out << line << '\n';
    ++report.lines;
  }
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

TokenizerTrainingReport train_tokenizer(const std::vector<std::string>& data, const std::string& format,
                                        const TokenizerSettings& s, uint64_t seed, const std::string& model_path) {
  (void)seed;  // the trainer is deterministic for a fixed input order (no sampling, no shuffling)
  ScratchDir scratch;
  if (scratch.path().find_first_of(" \t\n") != std::string::npos) {
    throw UserError(scratch.path() + ": the temporary directory may not contain spaces (SentencePiece flags)");
  }
  TokenizerTrainingReport report;
  const std::string input = scratch.path() + "/input.txt";
  {
    std::ofstream out(input, std::ios::binary);
    for (const std::string& path : data) {
      for (const Example& example : read_examples(path, format)) {
        if (!example.prompt.empty()) write_lines(out, example.prompt, report);
        write_lines(out, example.text, report);
      }
    }
    if (!out) throw UserError(input + ": cannot write the tokenizer's training text");
  }
  if (report.lines == 0) throw UserError("--data: no text to train the tokenizer on");
  std::ostringstream flags;
  flags << "--input=" << input << " --model_prefix=" << scratch.path() << "/spm"
        << " --vocab_size=" << s.vocab_size << " --model_type=" << s.model_type
        << " --character_coverage=" << s.character_coverage << " --split_digits=" << (s.split_digits ? "true" : "false")
        << " --byte_fallback=" << (s.byte_fallback ? "true" : "false") << " --max_sentence_length=" << kMaxSentenceBytes
        << " --normalization_rule_name=identity --remove_extra_whitespaces=false --allow_whitespace_only_pieces=true"
        << " --unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1 --input_sentence_size=0 --shuffle_input_sentence=false"
        << " --num_threads=1 --minloglevel=2";
  io::Tokenizer::train(flags.str());
  write_file_atomically(model_path, read_bytes(scratch.path() + "/spm.model"));
  return report;
}

}  // namespace lincat::train
