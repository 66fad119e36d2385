// lincat tokenize / detokenize / bench tokenize: the tokenizer on its own, with the exact forms
// scripts rely on (ids comma-separated on one line; decoded text with nothing added).
#include <algorithm>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "cli/flags.h"
#include "lincat/io/tokenizer.h"
#include "lincat/util/atomic_file.h"
#include "lincat/util/error.h"
#include "lincat/util/stopwatch.h"

namespace lincat::cli {
namespace {

std::string read_bytes(const std::string& path, const std::string& flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(flag + " " + path + ": cannot open (missing or unreadable)");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string join_ids(const std::vector<int64_t>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
  return out;
}

struct TokenizeFlags {
  std::string tokenizer;
  std::string text;
  std::string file;
  std::string jsonl;
  bool no_special = false;
  CLI::Option* text_given = nullptr;  // --text "" is an empty text, not a missing one
};

// --jsonl: one JSON string per input line; one {"ids", "plain", "decoded"} object per output line
// (ids with and without special tokens, and the decoding of the latter), so that a test compares
// thousands of texts in one process.
int tokenize_jsonl(const io::Tokenizer& tokenizer, const std::string& path) {
  std::istringstream lines(read_bytes(path, "--jsonl"));
  std::string line;
  for (int64_t number = 1; std::getline(lines, line); ++number) {
    if (line.empty()) continue;
    nlohmann::json text;
    try {
      text = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw UserError("--jsonl " + path + ":" + std::to_string(number) + ": invalid JSON (" + e.what() + ")");
    }
    if (!text.is_string()) throw UserError("--jsonl " + path + ":" + std::to_string(number) + ": expected a JSON string");
    const std::vector<int64_t> plain = tokenizer.encode(text.get<std::string>());
    nlohmann::json out = {{"ids", tokenizer.encode_with_special(text.get<std::string>())},
                          {"plain", plain},
                          {"decoded", tokenizer.decode(plain)}};
    std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
  return 0;
}

int run_tokenize(const TokenizeFlags& flags) {
  const int sources = (flags.text_given->count() > 0) + !flags.file.empty() + !flags.jsonl.empty();
  if (sources != 1) throw UserError("tokenize: give exactly one of --text, --file and --jsonl");
  const auto tokenizer = io::Tokenizer::load(flags.tokenizer);
  if (!flags.jsonl.empty()) return tokenize_jsonl(*tokenizer, flags.jsonl);
  const std::string text = flags.file.empty() ? flags.text : read_bytes(flags.file, "--file");
  const std::vector<int64_t> ids = flags.no_special ? tokenizer->encode(text) : tokenizer->encode_with_special(text);
  std::cout << join_ids(ids) << "\n";
  return 0;
}

struct DetokenizeFlags {
  std::string tokenizer;
  std::string ids;
  bool skip_special = false;
};

int run_detokenize(const DetokenizeFlags& flags) {
  const auto tokenizer = io::Tokenizer::load(flags.tokenizer);
  const std::vector<int64_t> ids = flags.ids.empty() ? std::vector<int64_t>{} : parse_id_list(flags.ids, "--ids");
  std::cout << tokenizer->decode(ids, flags.skip_special) << std::flush;
  return 0;
}

struct TokenizeBenchFlags {
  std::string tokenizer;
  std::string file;
  int repetitions = 3;
  std::string json_path;
};

// Encoding and decoding speed on one file, in MB of text per second; the first repetition starts
// with an empty word cache, the best one is reported too.
int run_tokenize_bench(const TokenizeBenchFlags& flags) {
  const auto load_start = SteadyClock::now();
  const auto tokenizer = io::Tokenizer::load(flags.tokenizer);
  const double load_seconds = seconds_since(load_start);
  const std::string text = read_bytes(flags.file, "--file");
  const double megabytes = static_cast<double>(text.size()) / 1e6;
  std::vector<double> encode_seconds, decode_seconds;
  std::vector<int64_t> ids;
  for (int r = 0; r < flags.repetitions; ++r) {
    auto start = SteadyClock::now();
    ids = tokenizer->encode(text);
    encode_seconds.push_back(seconds_since(start));
    start = SteadyClock::now();
    const std::string decoded = tokenizer->decode(ids);
    decode_seconds.push_back(seconds_since(start));
    if (decoded.size() == 0 && !text.empty()) std::cerr << "warning: decoding gave no text\n";
  }
  const double first = encode_seconds.front();
  const double best = *std::min_element(encode_seconds.begin(), encode_seconds.end());
  const double best_decode = *std::min_element(decode_seconds.begin(), decode_seconds.end());
  std::cout << "tokenizer: " << tokenizer->path() << " (" << tokenizer->describe() << "), loaded in " << load_seconds
            << " s\n"
            << "text:      " << flags.file << " (" << megabytes << " MB, " << ids.size() << " tokens)\n"
            << "encode:    " << megabytes / first << " MB/s first run, " << megabytes / best << " MB/s best of "
            << flags.repetitions << "\n"
            << "decode:    " << megabytes / best_decode << " MB/s best of " << flags.repetitions << "\n";
  if (!flags.json_path.empty()) {
    const nlohmann::json out = {{"tokenizer", tokenizer->path()},
                                {"file", flags.file},
                                {"bytes", text.size()},
                                {"tokens", ids.size()},
                                {"load_seconds", load_seconds},
                                {"encode_seconds", encode_seconds},
                                {"decode_seconds", decode_seconds},
                                {"encode_mb_per_s_first", megabytes / first},
                                {"encode_mb_per_s_best", megabytes / best},
                                {"decode_mb_per_s_best", megabytes / best_decode}};
    write_file_atomically(flags.json_path, out.dump(2) + "\n");
  }
  return 0;
}

constexpr const char* kTokenizerHelp =
    "model directory (tokenizer.json preferred, else tokenizer.model), or a tokenizer file";

}  // namespace

void add_tokenize_command(CLI::App& app, Action& action) {
  auto tokenize = std::make_shared<TokenizeFlags>();
  CLI::App* command = app.add_subcommand("tokenize", "print the token ids of a text, comma-separated");
  command->add_option("TOKENIZER", tokenize->tokenizer, kTokenizerHelp)->required();
  tokenize->text_given = command->add_option("--text", tokenize->text, "the text");
  command->add_option("--file", tokenize->file, "a file whose bytes are the text (newlines included)");
  command->add_option("--jsonl", tokenize->jsonl,
                      "one JSON string per line; prints {ids, plain (no special tokens), decoded} per line");
  command->add_flag("--no-special", tokenize->no_special,
                    "add no special tokens (Hugging Face's add_special_tokens=False)");
  command->callback([tokenize, &action] { action = [tokenize] { return run_tokenize(*tokenize); }; });

  auto detokenize = std::make_shared<DetokenizeFlags>();
  CLI::App* back = app.add_subcommand("detokenize", "print the text of token ids (nothing else, no newline)");
  back->add_option("TOKENIZER", detokenize->tokenizer, kTokenizerHelp)->required();
  back->add_option("--ids", detokenize->ids, "comma-separated token ids")->required();
  back->add_flag("--skip-special", detokenize->skip_special, "leave out special tokens");
  back->callback([detokenize, &action] { action = [detokenize] { return run_detokenize(*detokenize); }; });
}

void add_tokenize_bench_command(CLI::App& bench, Action& action) {
  auto flags = std::make_shared<TokenizeBenchFlags>();
  CLI::App* command = bench.add_subcommand("tokenize", "encode and decode speed of a tokenizer on a file (MB/s)");
  command->add_option("TOKENIZER", flags->tokenizer, kTokenizerHelp)->required();
  command->add_option("--file", flags->file, "text to encode")->required();
  add_repetitions_flag(*command, flags->repetitions, "runs (the first starts with an empty word cache)");
  add_json_flag(*command, flags->json_path);
  command->callback([flags, &action] { action = [flags] { return run_tokenize_bench(*flags); }; });
}

}  // namespace lincat::cli
