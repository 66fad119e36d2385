#include "lincat/train/token_cache.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lincat/io/tensor_io.h"
#include "lincat/io/tokenizer.h"
#include "lincat/util/error.h"

namespace lincat::train {
namespace {

namespace fs = std::filesystem;

// FNV-1a over the bytes of `text`, continuing from `hash`.
uint64_t fnv1a(uint64_t hash, const std::string& text) {
  for (unsigned char c : text) hash = (hash ^ c) * 1099511628211ull;
  return hash;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(path + ": cannot open (missing or unreadable)");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

std::string default_cache_dir() {
  if (const char* dir = std::getenv("LINCAT_CACHE_DIR"); dir && *dir) return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return (fs::path(xdg) / "lincat").string();
  const char* home = std::getenv("HOME");
  return (fs::path(home && *home ? home : "/tmp") / ".cache" / "lincat").string();
}

TokenisedData tokenise_with_cache(const std::vector<std::string>& paths, const std::string& format,
                                  const std::string& tokenizer_path, int64_t sequence_length,
                                  const std::string& cache_dir) {
  if (paths.empty()) throw SettingError("data", ": give at least one data file");
  // The key covers everything the packed sequences depend on, by content rather than by name.
  uint64_t key = fnv1a(14695981039346656037ull, format + "|" + std::to_string(sequence_length) + "|");
  if (!tokenizer_path.empty()) key = fnv1a(key, file_bytes(tokenizer_path));
  for (const std::string& path : paths) key = fnv1a(fnv1a(key, "|"), file_bytes(path));
  char name[64];
  std::snprintf(name, sizeof name, "tokens-%016llx.safetensors", static_cast<unsigned long long>(key));

  TokenisedData out;
  out.cache_file = (fs::path(cache_dir) / name).string();
  if (fs::exists(out.cache_file)) {
    const auto tensors = io::load_safetensors_map(out.cache_file);
    if (tensors.count("ids") && tensors.count("loss_mask")) {
      out.sequences = {tensors.at("ids").clone(), tensors.at("loss_mask").clone()};
      out.from_cache = true;
      return out;
    }
  }

  // Without a tokenizer only pre-tokenised records (input_ids) can be read.
  const auto tokenizer = tokenizer_path.empty() ? nullptr : io::Tokenizer::load(tokenizer_path);
  const Encoder encode = [&tokenizer](const std::string& text) {
    if (!tokenizer) throw SettingError("tokenizer", ": none given and the model has none, but the data holds text");
    return tokenizer->encode(text);
  };
  std::vector<Example> examples;
  std::string context;
  for (const std::string& path : paths) {
    std::vector<Example> file_examples = read_examples(path, format);
    examples.insert(examples.end(), file_examples.begin(), file_examples.end());
    context += (context.empty() ? "" : " ") + path;
  }
  out.sequences = pack_examples(examples, encode, tokenizer ? tokenizer->bos_id() : -1,
                                tokenizer ? tokenizer->eos_id() : -1, sequence_length, context);

  std::error_code error;
  fs::create_directories(cache_dir, error);
  if (error) throw UserError(cache_dir + ": cannot create the token cache directory (" + error.message() + ")");
  io::save_safetensors(out.cache_file, {{"ids", out.sequences.ids}, {"loss_mask", out.sequences.loss_mask}});
  return out;
}

}  // namespace lincat::train
