#include "lincat/io/tokenizer.h"

#include <dlfcn.h>
#include <link.h>
#include <unistd.h>

#include <cctype>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "lincat/io/hf_tokenizer.h"
#include "lincat/util/atomic_file.h"
#include "lincat/util/error.h"
#include "spm_module/spm_module.h"

namespace lincat::io {
namespace {

constexpr const char* kModuleName = "liblincat_sentencepiece.so";

// The module's functions, resolved once.
struct SpmModule {
  decltype(&lincat_spm_load) load;
  decltype(&lincat_spm_free) free;
  decltype(&lincat_spm_vocab_size) vocab_size;
  decltype(&lincat_spm_bos_id) bos_id;
  decltype(&lincat_spm_eos_id) eos_id;
  decltype(&lincat_spm_encode) encode;
  decltype(&lincat_spm_decode) decode;
  decltype(&lincat_spm_id_to_piece) id_to_piece;
  decltype(&lincat_spm_release) release;
  decltype(&lincat_spm_train) train;
};

// Where the module may be: $LINCAT_SPM_MODULE, next to the running program, next to this library.
std::vector<std::string> module_candidates() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("LINCAT_SPM_MODULE")) candidates.emplace_back(env);
  char exe[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0) {
    exe[n] = '\0';
    candidates.push_back((std::filesystem::path(exe).parent_path() / kModuleName).string());
  }
  Dl_info info;
  if (::dladdr(reinterpret_cast<void*>(&module_candidates), &info) && info.dli_fname) {
    candidates.push_back((std::filesystem::path(info.dli_fname).parent_path() / kModuleName).string());
  }
  candidates.emplace_back(kModuleName);  // the dynamic loader's search path
  return candidates;
}

const SpmModule& spm_module() {
  static std::once_flag once;
  static SpmModule module;
  static std::string failure;
  std::call_once(once, [] {
    void* handle = nullptr;
    std::string tried;
    for (const std::string& candidate : module_candidates()) {
      // A new link namespace: SentencePiece's embedded protobuf never meets libtorch's. Unlike
      // RTLD_DEEPBIND this also works under AddressSanitizer, which refuses DEEPBIND.
      handle = ::dlmopen(LM_ID_NEWLM, candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (handle) break;
      tried += "\n  " + candidate + ": " + ::dlerror();
    }
    if (!handle) {
      failure = "cannot load the SentencePiece module " + std::string(kModuleName) +
                " (the build writes it beside the lincat binary; copy both together):" + tried;
      return;
    }
    auto resolve = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(handle, name));
      if (!fn) failure = std::string("SentencePiece module lacks ") + name;
    };
    resolve(module.load, "lincat_spm_load");
    resolve(module.free, "lincat_spm_free");
    resolve(module.vocab_size, "lincat_spm_vocab_size");
    resolve(module.bos_id, "lincat_spm_bos_id");
    resolve(module.eos_id, "lincat_spm_eos_id");
    resolve(module.encode, "lincat_spm_encode");
    resolve(module.decode, "lincat_spm_decode");
    resolve(module.id_to_piece, "lincat_spm_id_to_piece");
    resolve(module.release, "lincat_spm_release");
    resolve(module.train, "lincat_spm_train");
  });
  if (!failure.empty()) throw UserError(failure);  // an installation problem, not a bug: exit 2
  return module;
}

// A SentencePiece tokenizer.model. Like Hugging Face's LlamaTokenizer it adds BOS (and no EOS)
// unless a tokenizer_config.json beside it says otherwise.
class SentencePieceTokenizer : public Tokenizer {
 public:
  SentencePieceTokenizer(lincat_spm* handle, const std::string& path) : handle_(handle) {
    path_ = path;
    const AddedSpecialTokens added = added_special_tokens(sibling_config(path), true, false);
    if (added.bos && bos_id() >= 0) special_prefix_.push_back(bos_id());
    if (added.eos && eos_id() >= 0) special_suffix_.push_back(eos_id());
  }
  ~SentencePieceTokenizer() override { spm_module().free(handle_); }

  std::vector<int64_t> encode(const std::string& text) const override {
    size_t count = 0;
    int* ids = spm_module().encode(handle_, text.data(), text.size(), &count);
    if (!ids) throw UserError("tokenizer: cannot encode the text");
    std::vector<int64_t> out(ids, ids + count);
    spm_module().release(ids);
    return out;
  }

  // SentencePiece never prints its control tokens (BOS, EOS), so `skip_special` changes nothing.
  std::string decode(const std::vector<int64_t>& ids, bool /*skip_special*/) const override {
    std::vector<int> narrow;
    narrow.reserve(ids.size());
    for (int64_t id : ids) {
      check_id(id, vocab_size(), path_);
      narrow.push_back(static_cast<int>(id));
    }
    size_t length = 0;
    char* text = spm_module().decode(handle_, narrow.data(), narrow.size(), &length);
    if (!text) throw UserError("tokenizer: cannot decode the ids");
    std::string out(text, length);
    spm_module().release(text);
    return out;
  }

  std::string piece(int64_t id) const override {
    char* text = spm_module().id_to_piece(handle_, static_cast<int>(id));
    if (!text) throw UserError("tokenizer: token id " + std::to_string(id) + " is outside the vocabulary");
    std::string out(text);
    spm_module().release(text);
    return out;
  }

  int64_t vocab_size() const override { return spm_module().vocab_size(handle_); }
  int64_t bos_id() const override { return spm_module().bos_id(handle_); }
  int64_t eos_id() const override { return spm_module().eos_id(handle_); }
  std::string describe() const override {
    return "SentencePiece (" + std::to_string(vocab_size()) + " pieces)";
  }

 private:
  lincat_spm* handle_;
};

// A file is read as tokenizer.json when it starts with '{' (after white space).
bool looks_like_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char c = 0;
  while (in.get(c)) {
    if (!std::isspace(static_cast<unsigned char>(c))) return c == '{';
  }
  return false;
}

std::unique_ptr<Tokenizer> load_sentencepiece(const std::string& path) {
  char error[512] = {0};
  lincat_spm* handle = spm_module().load(path.c_str(), error, sizeof(error));
  if (!handle) throw UserError(path + ": not a valid SentencePiece model (" + error + ")");
  return std::make_unique<SentencePieceTokenizer>(handle, path);
}

}  // namespace

std::string Tokenizer::find_in(const std::string& directory) {
  for (const char* name : {"tokenizer.json", "tokenizer.model"}) {
    const std::filesystem::path candidate = std::filesystem::path(directory) / name;
    if (std::filesystem::is_regular_file(candidate)) return candidate.string();
  }
  return "";
}

std::string Tokenizer::resolve(const std::string& path) {
  if (!std::filesystem::is_directory(path)) return path;
  const std::string file = find_in(path);
  if (file.empty()) throw UserError(path + ": no tokenizer.json or tokenizer.model in this directory");
  return file;
}

std::unique_ptr<Tokenizer> Tokenizer::load(const std::string& path) {
  const std::string file = resolve(path);
  if (!std::filesystem::is_regular_file(file)) throw UserError(file + ": tokenizer file not found");
  if (looks_like_json(file)) return load_hf_tokenizer(file, sibling_config(file));
  return load_sentencepiece(file);
}

std::vector<int64_t> Tokenizer::encode_with_special(const std::string& text) const {
  std::vector<int64_t> ids = special_prefix_;
  const std::vector<int64_t> body = encode(text);
  ids.insert(ids.end(), body.begin(), body.end());
  ids.insert(ids.end(), special_suffix_.begin(), special_suffix_.end());
  return ids;
}

std::string copy_tokenizer(const std::string& path, const std::string& directory) {
  namespace fs = std::filesystem;
  const std::string file = Tokenizer::resolve(path);
  const bool json = looks_like_json(file);
  std::vector<std::pair<std::string, std::string>> copies{{file, json ? "tokenizer.json" : "tokenizer.model"}};
  const std::string config = sibling_config(file);
  if (!config.empty()) copies.emplace_back(config, "tokenizer_config.json");
  for (const auto& [from, name] : copies) {
    const fs::path to = fs::path(directory) / name;
    if (fs::exists(to) && fs::equivalent(from, to)) continue;
    write_file_atomically(to.string(), read_whole_file(from));
  }
  return (fs::path(directory) / copies.front().second).string();
}

void Tokenizer::train(const std::string& flags) {
  char error[1024] = {0};
  if (spm_module().train(flags.c_str(), error, sizeof(error)) != 0) {
    throw UserError(std::string("tokenizer training failed: ") + error);
  }
}

}  // namespace lincat::io
