#include "support/tiny_teacher.h"

#include <filesystem>
#include <random>

#include "lincat/model/random_model.h"
#include "test_paths.h"

namespace lincat::test {

std::string write_tiny_teacher(const std::string& directory, uint64_t seed) {
  ModelConfig c;
  c.architecture = "LlamaForCausalLM";
  c.vocab_size = 300;
  c.hidden_size = 32;
  c.intermediate_size = 64;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.head_dim = 8;
  c.max_position_embeddings = 512;
  c.rms_norm_eps = 1e-5;
  c.bos_token_id = 1;
  c.eos_token_ids = {2};
  write_random_model(directory, c, seed);
  std::filesystem::copy_file(LINCAT_TEST_DATA "/tokenizer/tiny.model", directory + "/tokenizer.model",
                             std::filesystem::copy_options::overwrite_existing);
  return directory;
}

std::string tiny_text(int words, uint64_t seed) {
  static const char* const kWords[] = {"the", "program", "license", "free", "software", "you", "may", "copy",
                                       "work", "source", "code", "terms", "conditions", "any", "version", "public",
                                       "general", "distribute", "modify", "warranty", "holder", "patent", "rights"};
  std::mt19937_64 rng(seed);
  std::string text;
  for (int i = 0; i < words; ++i) {
    text += kWords[rng() % (sizeof kWords / sizeof *kWords)];
    text += (i % 11 == 10) ? ".\n" : (i % 97 == 96) ? ".\n\n" : " ";
  }
  return text;
}

std::string tiny_recipe_flags(const std::string& cache_dir) {
  return " --set attention.window=16 --set attention.feature_dim=8 --set data.sequence_length=64"
         " --set data.tokens_per_step=128 --set data.eval_fraction=0.2 --set stage1.eval_interval=2"
         " --set stage2.eval_interval=2 --set data.cache_dir=" + cache_dir;
}

}  // namespace lincat::test
