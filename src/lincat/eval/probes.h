// Long-range probes, generated deterministically from a seed (algorithms.md section 8): passkey
// retrieval and multi-query associative recall, with the distance between the fact and the
// question set in tokens relative to the model's window. Items are built from token ids so that
// distances are exact; each is a multiple-choice item (the true answer among distractors).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "lincat/eval/evaluate.h"
#include "lincat/eval/probe_templates.h"
#include "lincat/eval/scorer.h"

namespace lincat::eval {

enum class ProbeKind { Passkey, AssociativeRecall };
std::string probe_name(ProbeKind kind);  // "passkey", "associative_recall"

struct ProbeSettings {
  std::vector<int64_t> distances;  // in tokens; see window_distances
  int items_per_distance = 8;
  int choices = 4;  // the answer and choices - 1 distractors; chance = 1 / choices
  uint64_t seed = 1234;
};

// w/2, w, 2w, 4w, 8w, 16w, 32w (at least 1 token each).
std::vector<int64_t> window_distances(int64_t window);

// `encode` must not add BOS; `bos` (-1: none) goes in front of every context. A distance too
// short for the question itself is lengthened to the shortest possible (ProbeItem::distance says).
std::vector<ProbeItem> make_probe(ProbeKind kind, const Encoder& encode, int64_t bos, const ProbeSettings& settings);

struct ProbePoint {
  int64_t distance = 0;  // requested
  double accuracy = 0;
  int items = 0;
  std::vector<bool> correct;  // per item, in the order of the items: paired comparisons between modes
};

// Accuracy per requested distance, in the order of settings.distances; `progress` after each item.
std::vector<ProbePoint> score_probe(const Scorer& scorer, const std::vector<ProbeItem>& items,
                                    const ProbeSettings& settings, const ItemProgress& progress = {});

}  // namespace lincat::eval
