// The CLI contract: exact command forms, outputs, exit codes (0 ok, 2 bad input, 1 internal).
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>

#include "lincat/io/hf_config.h"
#include "lincat/io/safetensors.h"
#include "lincat/io/tensor_io.h"
#include "support/run_program.h"
#include "support/safetensors_bytes.h"
#include "support/temp_dir.h"
#include "test_paths.h"

namespace {

using lincat::test::run_lincat;

const std::string kLlama = LINCAT_TEST_DATA "/hf-reference/llama-gqa";
const std::string kSequence0 =
    "446,198,367,483,83,250,83,478,367,40,462,81,404,480,193,465,188,107,169,455,50,22,120,80,356,"
    "418,505,184,151,171,508,493,244,220,86,385,115";

std::string last_line(const std::string& text) {
  std::string trimmed = text.substr(0, text.find_last_not_of('\n') + 1);
  return trimmed.substr(trimmed.find_last_of('\n') == std::string::npos ? 0 : trimmed.find_last_of('\n') + 1);
}

TEST(Cli, ForwardWritesTheReferenceLogits) {
  lincat::test::TempDir dir;
  const auto result = run_lincat("forward " + kLlama + " --ids " + kSequence0 + " --out " + dir.file("l.safetensors"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto logits = lincat::io::load_safetensors_map(dir.file("l.safetensors")).at("logits");
  const auto expected = lincat::io::load_safetensors_map(kLlama + "/expected.safetensors").at("logits_0");
  ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{37, 512}));
  EXPECT_LE((logits - expected).abs().max().item<double>(), 1e-4);
}

TEST(Cli, GenerateGreedyPrintsTheReferenceIds) {
  const auto result = run_lincat("generate " + kLlama + " --ids " + kSequence0 + " --max-new-tokens 8 --print-ids");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto greedy = lincat::io::load_safetensors_map(kLlama + "/expected.safetensors").at("greedy_0");
  std::string expected;
  for (int64_t i = 0; i < greedy.numel(); ++i) expected += (i ? " " : "") + std::to_string(greedy[i].item<int64_t>());
  EXPECT_EQ(last_line(result.out), expected);
  EXPECT_NE(result.err.find("tokens/s"), std::string::npos);
}

TEST(Cli, SamplingIsReproducibleFromASeed) {
  const std::string args = "generate " + kLlama + " --ids 1,2,3 --max-new-tokens 12 --temperature 1.0 --top-k 50 "
                           "--top-p 0.9 --print-ids --seed ";
  const auto a = run_lincat(args + "7"), b = run_lincat(args + "7"), c = run_lincat(args + "8");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(last_line(a.out), last_line(b.out));
  EXPECT_NE(last_line(a.out), last_line(c.out));
}

// A prompt goes through the model directory's tokenizer; this test tokenizer (300 pieces) is
// smaller than the fixture's vocabulary (512), so some generated ids have no text.
TEST(Cli, GenerateFromATextPromptWithTheModelsTokenizer) {
  lincat::test::TempDir dir;
  for (const std::string file : {"config.json", "model.safetensors"}) {
    std::filesystem::copy_file(kLlama + "/" + file, dir.file(file));
  }
  std::filesystem::copy_file(LINCAT_TEST_DATA "/tokenizer/tiny.model", dir.file("tokenizer.model"));
  const auto result = run_lincat("generate " + dir.path() + " --prompt 'This is free software.' --max-new-tokens 12");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find("warning: "), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("prefill: 9 tokens"), std::string::npos) << result.err;  // BOS + 8 pieces
  EXPECT_FALSE(result.out.empty());
}

// The program loads SentencePiece from a module built beside it; a binary copied without it
// must say which file is missing and where it looked (exit 2: an installation problem).
TEST(Cli, MissingSentencePieceModuleIsAClearError) {
  lincat::test::TempDir dir;
  std::filesystem::copy_file(LINCAT_BINARY, dir.file("lincat"));
  std::filesystem::permissions(dir.file("lincat"), std::filesystem::perms::owner_all);
  lincat::test::TempDir model;
  for (const std::string file : {"config.json", "model.safetensors"}) {
    std::filesystem::copy_file(kLlama + "/" + file, model.file(file));
  }
  std::filesystem::copy_file(LINCAT_TEST_DATA "/tokenizer/tiny.model", model.file("tokenizer.model"));
  const std::string err = dir.file("err.txt");
  const int status = std::system((dir.file("lincat") + " generate " + model.path() +
                                  " --prompt 'Hello' --max-new-tokens 1 >/dev/null 2>" + err).c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
  const std::string message = lincat::test::read_bytes(err);
  EXPECT_NE(message.find("cannot load the SentencePiece module liblincat_sentencepiece.so"), std::string::npos)
      << message;
  EXPECT_NE(message.find(dir.file("liblincat_sentencepiece.so")), std::string::npos) << message;
}

TEST(Cli, InfoDescribesTheModel) {
  const auto result = run_lincat("info " + kLlama);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("LlamaForCausalLM"), std::string::npos);
  EXPECT_NE(result.out.find("F32 x21"), std::string::npos);
}

TEST(Cli, RandomModelRefusesAModelLargerThanTheMachine) {
  lincat::test::TempDir dir;
  nlohmann::json config = lincat::io::read_json_file(kLlama + "/config.json");
  for (const char* field : {"vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "head_dim"}) {
    config[field] = 1 << 24;
  }
  lincat::io::write_json_file(dir.file("config.json"), config);
  const auto result = run_lincat("random-model --config " + dir.file("config.json") + " --out " + dir.file("out"));
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("GiB, this machine has"), std::string::npos) << result.err;
}

struct BadInput {
  std::string name;
  std::string arguments;
  std::string message;  // part of stderr
};

class CliBadInput : public ::testing::TestWithParam<BadInput> {};

TEST_P(CliBadInput, ExitsWithCode2AndAClearError) {
  const auto result = run_lincat(GetParam().arguments);
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_EQ(result.err.rfind("error: ", 0), 0u) << result.err;
  EXPECT_NE(result.err.find(GetParam().message), std::string::npos) << result.err;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CliBadInput,
    ::testing::Values(
        BadInput{"UnknownFlag", "forward " + kLlama + " --ids 1 --out /tmp/x.safetensors --bogus", "--bogus"},
        BadInput{"UnknownCommand", "frobnicate", "frobnicate"},
        BadInput{"MissingModel", "info /nonexistent/model", "/nonexistent/model"},
        BadInput{"IdsNotIntegers", "forward " + kLlama + " --ids 1,x,3 --out /tmp/x.safetensors", "--ids"},
        BadInput{"IdOutsideVocabulary", "forward " + kLlama + " --ids 1,600 --out /tmp/x.safetensors",
                 "token id 600 is outside the vocabulary"},
        BadInput{"BadDevice", "info " + kLlama + " --device tpu", "--device"},
        BadInput{"BadDtype", "info " + kLlama + " --dtype int8", "--dtype"},
        BadInput{"PromptWithoutTokenizer", "generate " + kLlama + " --prompt hello", "tokenizer.model"},
        BadInput{"BadTopP", "generate " + kLlama + " --ids 1 --top-p 0", "--top-p"},
        // The library names the setting (top_k); the CLI shows the flag that set it.
        BadInput{"BadTopK", "generate " + kLlama + " --ids 1 --top-k -1", "error: --top-k must be >= 0"},
        BadInput{"NegativeLimit", "demo --limit -1", "--limit: value -1 must be >= 0"},
        BadInput{"NoRepetitions", "bench model " + kLlama + " --repetitions 0", "--repetitions: value 0 must be >= 1"},
        BadInput{"NoContinuationRepetitions", "bench continuation --repetitions 0", "--repetitions: value 0 must be >= 1"},
        BadInput{"UnwritableOutput", "forward " + kLlama + " --ids 1 --out /nonexistent/dir/x.safetensors",
                 "/nonexistent/dir/x.safetensors"}),
    [](const ::testing::TestParamInfo<BadInput>& info) { return info.param.name; });

}  // namespace

// Test-only flags are accepted but not listed by --help: users never see --stop-after-steps.
TEST(Cli, TestOnlyFlagsAreHiddenFromHelp) {
  for (const char* command : {"convert", "pretrain"}) {
    const auto help = run_lincat(std::string(command) + " --help");
    EXPECT_EQ(help.exit_code, 0) << help.err;
    EXPECT_NE(help.out.find("--data"), std::string::npos) << help.out;
    EXPECT_EQ(help.out.find("--stop-after-steps"), std::string::npos) << command << ": " << help.out;
  }
  const auto calibrate = run_lincat("calibrate --help");
  EXPECT_NE(calibrate.out.find("--held-out-tokens"), std::string::npos) << calibrate.out;
}
