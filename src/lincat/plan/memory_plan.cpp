#include "lincat/plan/memory_plan.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include <filesystem>

#include "lincat/attention/feature_map.h"
#include "lincat/io/hf_config.h"
#include "lincat/model/model_memory.h"
#include "lincat/plan/device_memory.h"
#include "lincat/util/error.h"
#include "lincat/util/memory.h"

namespace lincat::plan {
namespace {

using train::Recipe;

constexpr uint64_t kFloat32 = 4;
constexpr uint64_t kMiB = 1ull << 20;
// Resident before any tensor: the program, libtorch and its threads (measured ~0.3 GiB on CPU);
// on a GPU the CUDA context, cuBLAS workspaces and the caching allocator's rounding.
constexpr uint64_t kCpuRuntime = 300 * kMiB;
constexpr uint64_t kCudaRuntime = 700 * kMiB;

uint64_t u(int64_t value) { return value > 0 ? static_cast<uint64_t>(value) : 0; }

// The sizes one forward pass works with.
struct Shape {
  uint64_t B, T, N;            // sequences per micro-batch, tokens per sequence, tokens
  uint64_t D, I, V, L;         // hidden, intermediate, vocabulary, layers
  uint64_t H, Hkv, d;          // heads, key/value heads, head dim
  uint64_t f, F, C;            // feature columns, features per head, chunk (= window)
  uint64_t e;                  // compute bytes per element
};

// The shape of a forward pass in `stage` (its micro-batch: stage2.micro_batch_tokens in stage 2).
Shape shape_of(const PlanInputs& in, int stage) {
  const ModelConfig& m = in.model;
  const attention::HybridConfig& h = in.recipe.attention;
  const uint64_t T = u(in.recipe.data.sequence_length);
  const uint64_t B = u(train::micro_batch_sequences(in.recipe, stage));
  return {B, T, B * T,
          u(m.hidden_size), u(m.intermediate_size), u(m.vocab_size), u(m.num_layers),
          u(m.num_heads), u(m.num_kv_heads), u(m.head_dim),
          u(h.feature_dim), u(attention::feature_count(h, m.head_dim)), std::min(u(h.window), T),
          in.compute_bytes};
}

// One decoder layer's forward without a graph (the teacher in stage 1, evaluation): the residual
// stream and its norm, q/k/v before and after RoPE, then the larger of the softmax attention's
// float32 scores and probabilities [B, H, T, T] and the MLP's three [N, I] intermediates.
uint64_t layer_forward_bytes(const Shape& s) {
  const uint64_t stream = saturating_product({4, s.N, s.D, s.e});
  const uint64_t qkv = saturating_product({2, s.N, s.H + 2 * s.Hkv, s.d, s.e});
  const uint64_t scores = saturating_product({2, s.B, s.H, s.T, s.T, kFloat32});
  const uint64_t mlp = saturating_product({3, s.N, s.I, s.e});
  return saturating_sum({stream, qkv, std::max(scores, mlp)});
}

// The hybrid attention of one layer with its graph (chunked form): per head and token the
// feature maps' pre-activations and features for q and k, the chunk's scores against its own and
// the previous chunk, and the output, in float32 (stage 1 compares outputs in float32).
uint64_t hybrid_attention_graph_bytes(const Shape& s, uint64_t element) {
  return saturating_product({s.B, s.H, s.T, 6 * s.f + 2 * s.F + 3 * 2 * s.C + 4 * s.d, element});
}

// What backward through one decoder layer needs kept (stage 2): the residual stream, norms and
// projections' inputs (6 x [N, D]), q/k/v before and after RoPE, the MLP's four [N, I]
// intermediates, the hybrid attention's graph, LoRA's [N, r] intermediates and dropout masks.
uint64_t layer_saved_bytes(const Shape& s, const Recipe& r) {
  const uint64_t targets = r.stage2.lora.targets.size();
  const uint64_t lora = saturating_product({s.N, u(r.stage2.lora.rank), targets, s.e});
  const uint64_t dropout = r.stage2.lora.dropout > 0 ? saturating_product({s.N, s.D, targets, s.e}) : 0;
  return saturating_sum({saturating_product({6, s.N, s.D, s.e}), saturating_product({2, s.N, s.H + 2 * s.Hkv, s.d, s.e}),
                         saturating_product({4, s.N, s.I, s.e}), hybrid_attention_graph_bytes(s, s.e), lora, dropout});
}

// Stage 2's next-token loss over one chunk of positions (stage2.loss_chunk_tokens; 0: all N):
// the logits in the compute dtype and in float32, log_softmax, and in backward their gradients
// (4 float32 [c, V]); with KL the teacher's logits, log-probabilities, probabilities and the
// difference (4 more). Plus the last residual stream and its gradient (2 x [N, D] float32).
uint64_t finetune_logits_bytes(const Shape& s, const Recipe& r) {
  const uint64_t chunk = r.stage2.loss_chunk_tokens > 0 ? std::min(u(r.stage2.loss_chunk_tokens), s.N) : s.N;
  const uint64_t per_token = saturating_product({s.V, s.e + 4 * kFloat32});
  const uint64_t teacher = r.stage2.kl_weight > 0 ? saturating_product({s.V, s.e + 4 * kFloat32}) : 0;
  return saturating_sum({saturating_product({chunk, saturating_sum({per_token, teacher})}),
                         saturating_product({2, s.N, s.D, kFloat32})});
}

uint64_t runtime_bytes(const PlanInputs& in) { return in.cuda ? kCudaRuntime : kCpuRuntime; }

// Allocator slack on top of what a phase holds: a tenth of its transient tensors.
uint64_t workspace(const PlanInputs& in, uint64_t transient) { return saturating_sum({runtime_bytes(in), transient / 10}); }

MemoryParts load_parts(const PlanInputs& in, uint64_t frozen) {
  MemoryParts p;
  p.frozen_weights = frozen;
  // On the CPU a conversion to another dtype reads the whole mapped file while building the copy:
  // both are resident until loading returns.
  const bool copies = in.compute_bytes != in.stored_bytes;
  const uint64_t mapped = !in.cuda && copies ? parameter_bytes(in.model, in.stored_bytes) : 0;
  p.workspace = saturating_sum({runtime_bytes(in), mapped});
  return p;
}

MemoryParts stage1_parts(const PlanInputs& in, const Shape& s, uint64_t frozen) {
  MemoryParts p;
  p.frozen_weights = frozen;
  const uint64_t trained = stage1_trainable_elements(in.model, in.recipe);
  p.trainable = saturating_product({2, trained, kFloat32});  // masters and gradients
  p.optimizer = saturating_product({2, trained, kFloat32});
  // The teacher runs one layer at a time without a graph; the student's hybrid attention of that
  // layer holds its graph until the layer's loss is backpropagated and freed (x2: the backward).
  uint64_t attention_ce = 0;
  if (in.recipe.stage1.attention_weight_weight > 0) {
    const uint64_t rows = std::min(u(in.recipe.stage1.query_block), s.T);
    attention_ce = saturating_product({8, s.B, s.H, rows, s.T, kFloat32});
  }
  p.activations = saturating_sum({layer_forward_bytes(s), saturating_product({2, hybrid_attention_graph_bytes(s, kFloat32)}),
                                  attention_ce});
  p.workspace = workspace(in, p.activations);
  return p;
}

MemoryParts stage2_parts(const PlanInputs& in, const Shape& s, uint64_t frozen) {
  MemoryParts p;
  p.frozen_weights = frozen;
  const uint64_t trained = stage2_trainable_elements(in.model, in.recipe);
  const uint64_t kept_hybrid = in.recipe.stage2.train_feature_maps ? 0 : stage1_trainable_elements(in.model, in.recipe);
  p.trainable = saturating_sum({saturating_product({2, trained, kFloat32}), saturating_product({kept_hybrid, kFloat32})});
  p.optimizer = saturating_product({2, trained, kFloat32});
  // Every layer's saved tensors until backward, plus one layer's backward temporaries; with
  // gradient checkpointing each layer's input, and one layer's graph while it is recomputed.
  const uint64_t layer = layer_saved_bytes(s, in.recipe);
  p.activations = in.recipe.stage2.gradient_checkpointing
                      ? saturating_sum({saturating_product({s.L, s.N, s.D, s.e}), saturating_product({2, layer})})
                      : saturating_product({s.L + 1, layer});
  p.logits_loss = finetune_logits_bytes(s, in.recipe);
  p.workspace = workspace(in, saturating_sum({p.activations, p.logits_loss}));
  return p;
}

MemoryParts eval_parts(const PlanInputs& in, const Shape& s, uint64_t frozen) {
  MemoryParts p;
  p.frozen_weights = frozen;
  p.trainable = saturating_product({stage2_trainable_elements(in.model, in.recipe) + stage1_trainable_elements(in.model, in.recipe), kFloat32});
  p.activations = saturating_sum({layer_forward_bytes(s), hybrid_attention_graph_bytes(s, s.e)});
  p.logits_loss = saturating_product({s.N, s.V, s.e + 2 * kFloat32});  // logits, float32, log_softmax
  p.workspace = workspace(in, saturating_sum({p.activations, p.logits_loss}));
  return p;
}

// Writing the model (the end of convert, and lincat merge): the model in the compute dtype, and
// the frozen weights cast back to the checkpoint's dtype for writing when the two differ.
MemoryParts merge_parts(const PlanInputs& in, uint64_t frozen) {
  MemoryParts p;
  p.frozen_weights = frozen;
  p.trainable = saturating_product({stage1_trainable_elements(in.model, in.recipe), kFloat32});
  p.workspace = saturating_sum({runtime_bytes(in), in.compute_bytes != in.stored_bytes ? parameter_bytes(in.model, in.stored_bytes) : 0});
  return p;
}

std::vector<PhasePlan> phases_of(const PlanInputs& in) {
  const Shape s = shape_of(in, 1), s2 = shape_of(in, 2);
  const uint64_t frozen = parameter_bytes(in.model, in.compute_bytes);
  return {{"load", true, load_parts(in, frozen)},
          {"stage 1", stage_steps(in.recipe.stage1, in.recipe.data) > 0, stage1_parts(in, s, frozen)},
          {"stage 2", stage_steps(in.recipe.stage2, in.recipe.data) > 0, stage2_parts(in, s2, frozen)},
          {"eval", true, eval_parts(in, s, frozen)},
          {"merge", true, merge_parts(in, frozen)}};
}

uint64_t peak_of(const std::vector<PhasePlan>& phases) {
  uint64_t peak = 0;
  for (const PhasePlan& phase : phases) {
    if (phase.runs) peak = std::max(peak, phase.parts.total());
  }
  return peak;
}

uint64_t phase_total(const PlanInputs& in, const std::string& name) {
  for (const PhasePlan& phase : phases_of(in)) {
    if (phase.name == name) return phase.parts.total();
  }
  return 0;
}

// For a phase that does not fit, the first of these changes (each on top of the previous) that
// makes it fit: one sequence per micro-batch, then shorter sequences.
std::string advice_for(const PlanInputs& in, const PhasePlan& phase) {
  const std::string& name = phase.name;
  const uint64_t weights = saturating_sum({phase.parts.frozen_weights, runtime_bytes(in)});
  if (weights > in.device_memory) {
    std::string text = name + ": the weights alone need " + gib_text(weights) + " of " + gib_text(in.device_memory);
    if (!in.cuda && in.compute_bytes > in.stored_bytes) text += "; --dtype bfloat16 keeps them in the checkpoint's dtype";
    return text + "; a device with more memory is needed";
  }
  if (name == "load" || name == "merge") return name + ": needs " + gib_text(phase.parts.total()) + "; a device with more memory is needed";
  PlanInputs trial = in;
  std::vector<std::pair<std::string, std::string>> changes;  // settings changed so far, in order
  const auto fits_with = [&](const std::string& key, const std::string& value) {
    const auto same_key = [&key](const auto& change) { return change.first == key; };
    const auto found = std::find_if(changes.begin(), changes.end(), same_key);
    if (found != changes.end()) found->second = value;
    else changes.emplace_back(key, value);
    return phase_total(trial, name) <= in.device_memory;
  };
  const auto advice = [&] {
    std::string sets;
    for (const auto& [key, value] : changes) sets += (sets.empty() ? "--set " : " --set ") + key + "=" + value;
    return name + ": " + sets + " (" + gib_text(phase_total(trial, name)) + ")";
  };
  const bool stage2 = name == "stage 2";
  train::Recipe& r = trial.recipe;
  if (stage2 && train::micro_batch_sequences(r, 2) > 1) {
    r.stage2.micro_batch_tokens = r.data.sequence_length;
    if (fits_with("stage2.micro_batch_tokens", std::to_string(r.stage2.micro_batch_tokens))) return advice();
  } else if (!stage2 && r.data.micro_batch > 1) {
    r.data.micro_batch = 1;
    if (fits_with("data.micro_batch", "1")) return advice();
  }
  if (stage2 && !r.stage2.gradient_checkpointing) {
    r.stage2.gradient_checkpointing = true;
    if (fits_with("stage2.gradient_checkpointing", "true")) return advice();
  }
  if (stage2 && (r.stage2.loss_chunk_tokens == 0 || r.stage2.loss_chunk_tokens > 256)) {
    r.stage2.loss_chunk_tokens = 256;
    if (fits_with("stage2.loss_chunk_tokens", "256")) return advice();
  }
  while (r.data.sequence_length > 128) {
    r.data.sequence_length /= 2;
    r.data.tokens_per_step = std::max(r.data.tokens_per_step, r.data.sequence_length);
    if (stage2 && r.stage2.micro_batch_tokens > 0) {  // still one sequence per forward pass
      r.stage2.micro_batch_tokens = r.data.sequence_length;
      fits_with("stage2.micro_batch_tokens", std::to_string(r.stage2.micro_batch_tokens));
    }
    if (fits_with("data.sequence_length", std::to_string(r.data.sequence_length))) return advice();
  }
  return name + ": does not fit even with one sequence of 128 tokens per micro-batch; a device with more memory is needed";
}

std::string gib_cell(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", static_cast<double>(bytes) / double(1ull << 30));
  return text;
}

}  // namespace

uint64_t MemoryParts::total() const {
  return saturating_sum({frozen_weights, trainable, optimizer, activations, logits_loss, workspace});
}

uint64_t MemoryPlan::peak() const { return peak_of(phases); }

int64_t micro_batch_tokens(const train::Recipe& recipe, int stage) {
  return train::micro_batch_sequences(recipe, stage) * std::max<int64_t>(1, recipe.data.sequence_length);
}

uint64_t stage1_trainable_elements(const ModelConfig& model, const train::Recipe& recipe) {
  const attention::HybridConfig& h = recipe.attention;
  const uint64_t H = u(model.num_heads), d = u(model.head_dim), f = u(h.feature_dim);
  uint64_t per_layer = H;  // mixing logits
  if (attention::has_projection(h.feature_map)) per_layer += 2 * H * d * f;
  if (attention::has_bias(h.feature_map)) per_layer += 2 * H * f;
  return saturating_product({u(model.num_layers), per_layer});
}

uint64_t stage2_trainable_elements(const ModelConfig& model, const train::Recipe& recipe) {
  const uint64_t D = u(model.hidden_size), I = u(model.intermediate_size);
  const uint64_t q = u(model.num_heads) * u(model.head_dim), kv = u(model.num_kv_heads) * u(model.head_dim);
  uint64_t per_layer = 0;  // r x (in + out) per adapted projection
  for (const std::string& target : recipe.stage2.lora.targets) {
    const uint64_t in_out = target == "q_proj" || target == "o_proj" ? D + q
                            : target == "k_proj" || target == "v_proj" ? D + kv
                                                                       : D + I;
    per_layer += u(recipe.stage2.lora.rank) * in_out;
  }
  const uint64_t lora = saturating_product({u(model.num_layers), per_layer});
  return saturating_sum({lora, recipe.stage2.train_feature_maps ? stage1_trainable_elements(model, recipe) : 0});
}

uint64_t dtype_bytes(const std::string& torch_dtype) {
  return torch_dtype == "bfloat16" || torch_dtype == "float16" ? 2 : 4;
}

MemoryPlan plan_memory(const PlanInputs& inputs) {
  MemoryPlan plan;
  plan.inputs = inputs;
  plan.phases = phases_of(inputs);
  for (const PhasePlan& phase : plan.phases) {
    if (phase.runs && phase.parts.total() > inputs.device_memory) plan.advice.push_back(advice_for(inputs, phase));
  }
  return plan;
}

MemoryPlan plan_conversion(const std::string& directory, const train::Recipe& recipe, const std::string& device,
                           const std::string& dtype, uint64_t memory) {
  PlanInputs in;
  in.model = io::load_model_config((std::filesystem::path(directory) / "config.json").string());
  in.recipe = recipe;
  in.cuda = is_cuda_device(device);
  in.stored_bytes = dtype_bytes(in.model.torch_dtype);
  if (dtype == "auto") {  // as load_model: float32 on the CPU unless only 16-bit fits
    in.compute_bytes = in.cuda || parameter_bytes(in.model, kFloat32) > physical_memory_bytes() ? in.stored_bytes : kFloat32;
  } else if (dtype == "float32" || dtype == "bfloat16" || dtype == "float16") {
    in.compute_bytes = dtype_bytes(dtype);
  } else {
    throw SettingError("dtype", " '" + dtype + "': expected auto, float32, bfloat16 or float16");
  }
  in.device_memory = memory > 0 ? memory : device_memory_bytes(device);
  return plan_memory(in);
}

std::string plan_table(const MemoryPlan& plan) {
  const PlanInputs& in = plan.inputs;
  std::ostringstream out;
  out << "model: " << in.model.architecture << ", " << in.model.parameter_count() << " parameters, weights in "
      << (in.compute_bytes == 2 ? "16-bit" : "float32") << " (checkpoint " << (in.stored_bytes == 2 ? "16-bit" : "float32")
      << ")\n"
      << "recipe: " << in.recipe.name << ", tokens per micro-batch " << micro_batch_tokens(in.recipe, 1) << " in stage 1 and "
      << micro_batch_tokens(in.recipe, 2) << " in stage 2 (" << in.recipe.data.sequence_length << " per sequence), "
      << in.recipe.data.tokens_per_step << " per step\n\n";
  const char* header[] = {"phase", "frozen", "trainable", "optimizer", "activations", "logits+loss", "workspace", "total GiB"};
  char line[256];
  std::snprintf(line, sizeof line, "%-8s %9s %9s %9s %11s %11s %9s %9s\n", header[0], header[1], header[2], header[3],
                header[4], header[5], header[6], header[7]);
  out << line;
  for (const PhasePlan& phase : plan.phases) {
    const MemoryParts& p = phase.parts;
    std::snprintf(line, sizeof line, "%-8s %9s %9s %9s %11s %11s %9s %9s%s\n", phase.name.c_str(),
                  gib_cell(p.frozen_weights).c_str(), gib_cell(p.trainable).c_str(), gib_cell(p.optimizer).c_str(),
                  gib_cell(p.activations).c_str(), gib_cell(p.logits_loss).c_str(), gib_cell(p.workspace).c_str(),
                  gib_cell(p.total()).c_str(), phase.runs ? "" : "  (skipped: 0 steps)");
    out << line;
  }
  out << "\npeak " << gib_text(plan.peak()) << " of " << gib_text(in.device_memory) << " ("
      << (in.cuda ? "GPU" : "CPU") << "): " << (plan.fits() ? "fits" : "does NOT fit") << "\n";
  for (const std::string& advice : plan.advice) out << "to fit " << advice << "\n";
  return out.str();
}

nlohmann::json plan_json(const MemoryPlan& plan) {
  nlohmann::json phases = nlohmann::json::array();
  for (const PhasePlan& phase : plan.phases) {
    const MemoryParts& p = phase.parts;
    phases.push_back({{"phase", phase.name}, {"runs", phase.runs}, {"frozen_weights", p.frozen_weights},
                      {"trainable", p.trainable}, {"optimizer", p.optimizer}, {"activations", p.activations},
                      {"logits_loss", p.logits_loss}, {"workspace", p.workspace}, {"total", p.total()}});
  }
  return {{"device", plan.inputs.cuda ? "cuda" : "cpu"}, {"device_memory", plan.inputs.device_memory},
          {"compute_bytes", plan.inputs.compute_bytes}, {"stored_bytes", plan.inputs.stored_bytes},
          {"micro_batch_tokens", {{"stage1", micro_batch_tokens(plan.inputs.recipe, 1)},
                                  {"stage2", micro_batch_tokens(plan.inputs.recipe, 2)}}},
          {"phases", phases},
          {"peak", plan.peak()}, {"fits", plan.fits()}, {"advice", plan.advice}};
}

}  // namespace lincat::plan
