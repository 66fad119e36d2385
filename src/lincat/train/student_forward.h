// The stage-2 forward pass of a converted model, where Scheduled Sliding-window Dropout may run
// some layers or heads in linear mode while the rest run in the training mode. It is forward()'s
// layer loop (model/decoder.h) with its own attention: without drops, and with the model's own
// hybrid settings, its logits equal forward()'s in every mode.
#pragma once
#include <torch/torch.h>

#include "lincat/model/decoder.h"
#include "lincat/model/model.h"
#include "lincat/train/schedules.h"

namespace lincat::train {

// The attention of every layer in stage 2: `mode` with settings `hybrid`, the heads `drops` marks
// in linear mode. `model`, `hybrid` and `drops` must outlive it.
LayerAttention student_attention(const Model& model, attention::Mode mode, const attention::HybridConfig& hybrid,
                                 const DropPlan& drops);

// ids [B, T] -> logits [B, T, V] (float32). Every layer's attention runs in `mode` with the
// hybrid settings `hybrid` (SSD may shrink the window), except the heads `drops` marks, which run
// in linear mode. `drops` empty: nothing dropped.
at::Tensor student_logits(const Model& model, const at::Tensor& ids, attention::Mode mode,
                          const attention::HybridConfig& hybrid, const DropPlan& drops);

}  // namespace lincat::train
