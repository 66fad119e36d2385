// A tiny teacher and tiny data for the training tests: a 2-layer random Llama (hidden 32, 4
// heads of 8, vocabulary 300) with the 300-piece test tokenizer, and generated English-like text.
#pragma once
#include <cstdint>
#include <string>

namespace lincat::test {

// Writes the teacher into `directory` and returns it.
std::string write_tiny_teacher(const std::string& directory, uint64_t seed = 1);

// About `words` pseudo-random words from a fixed list, in sentences and paragraphs.
std::string tiny_text(int words, uint64_t seed = 7);

// The flags that make any recipe run in seconds on the tiny teacher: window 16, 8 features,
// sequences of 64, two sequences per step, the token cache in `cache_dir`.
std::string tiny_recipe_flags(const std::string& cache_dir);

}  // namespace lincat::test
