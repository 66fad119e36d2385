// `lincat pretrain`: a Llama-architecture model trained from scratch on text (plus synthetic
// long-range documents), with a tokenizer trained on the same text unless one is given. Writes
// a Hugging Face model directory (config.json, model.safetensors, tokenizer.model) with the
// resolved config (pretrain.yaml) and a JSONL training log. Resumable like `lincat convert`.
#pragma once
#include <ostream>
#include <string>
#include <vector>

#include "lincat/dist/settings.h"
#include "lincat/model/model.h"
#include "lincat/train/pretrain_config.h"
#include "lincat/train/test_hooks.h"

namespace lincat::train {

struct PretrainOptions {
  std::vector<std::string> data;
  std::string out_dir;
  std::string tokenizer;  // empty: train one on the data
  std::string init_from;  // empty: random initialisation; else a model directory of the same shape to start
                          // from, or an interrupted run's --out (the weights of its checkpoint)
  PretrainConfig config;  // resolved: overrides applied
  bool resume = false;
  TestHooks test_hooks;          // fault injection for tests; the defaults do nothing
  dist::Settings dist;           // world size 1: this process alone
};

// The freshly initialised model for `config`: N(0, 0.02) weights, o_proj and down_proj scaled by
// 1 / sqrt(2 * layers), RMSNorm gains 1; float32 on the CPU, every tensor a leaf that trains.
std::shared_ptr<Model> init_pretrain_model(const ModelConfig& config, uint64_t seed, const std::string& directory);

// With several processes (options.dist) each rank runs this with the same options: a step's
// global batch and the held-out set are split among the ranks and gradients and losses summed
// through c10d. Only rank 0 writes files: it trains (or copies) the tokenizer and fills the token
// cache while the others wait, then they load what it wrote (so --out must be on storage every
// rank sees, unless --tokenizer is given). The output equals a one-process run's.
// Exit code 0 when the model is written; 128 + signal (130 for the test hook) when interrupted
// with a checkpoint saved. `out` gets the summary lines (ending with the held-out loss and
// perplexity), `progress` the progress display.
int run_pretraining(const PretrainOptions& options, std::ostream& out, std::ostream& progress, bool terminal);

inline constexpr const char* kPretrainConfigFile = "pretrain.yaml";

}  // namespace lincat::train
