#include "lincat/train/synthetic.h"

#include <algorithm>
#include <cmath>

#include "lincat/eval/probe_templates.h"
#include "lincat/util/error.h"

namespace lincat::train {
namespace {

// splitmix64: a well-mixed seed for document `index`, never one the probes derive.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

eval::RenderedProbe render(const std::string& kind, const Encoder& encode, const std::vector<int64_t>& start,
                           int64_t target, uint64_t stream_seed) {
  eval::ProbeRandom random(stream_seed);
  constexpr int kChoices = 4;  // as the probes draw them; only the answer is shown
  if (kind == "passkey") return eval::render_passkey(encode, start, target, kChoices, random);
  return eval::render_recall(encode, start, target, kChoices, 4, random);
}

}  // namespace

SyntheticDocument synthetic_document(const SyntheticSettings& s, const Encoder& encode, int64_t bos, int64_t eos,
                                     int64_t max_tokens, uint64_t seed, int64_t index) {
  if (s.kinds.empty()) throw UserError("data.synthetic.kinds: no kinds to draw from");
  eval::ProbeRandom draw(mix(mix(seed ^ 0x73796e7468657469ull) + static_cast<uint64_t>(index)));
  const std::string kind = s.kinds[static_cast<size_t>(draw.below(static_cast<int64_t>(s.kinds.size())))];
  int64_t target = s.min_distance + draw.below(s.max_distance - s.min_distance + 1);
  const uint64_t stream_seed = mix(static_cast<uint64_t>(draw.below(1ll << 62)));
  const std::vector<int64_t> start = bos >= 0 ? std::vector<int64_t>{bos} : std::vector<int64_t>{};
  const int64_t extra = eos >= 0 ? 1 : 0;
  eval::RenderedProbe rendered = render(kind, encode, start, target, stream_seed);
  // Too long for the sequence: shorten the distance by the excess and render the same draws again.
  // Token counts do not shrink exactly with the distance (pairs and filler come in whole
  // pieces), so each retry takes off a little more than the excess to avoid oscillating.
  for (int attempt = 0; attempt < 32; ++attempt) {
    const int64_t excess = static_cast<int64_t>(rendered.answered.size()) + extra - max_tokens;
    if (excess <= 0) break;
    target = std::max<int64_t>(1, target - excess - attempt);
    rendered = render(kind, encode, start, target, stream_seed);
  }
  if (static_cast<int64_t>(rendered.answered.size()) + extra > max_tokens) {
    throw UserError("data.synthetic: a " + kind + " document does not fit in data.sequence_length " +
                    std::to_string(max_tokens) + "; lower data.synthetic.min_distance or raise the length");
  }
  const eval::ProbeItem& first = rendered.items.front();
  SyntheticDocument doc;
  doc.kind = kind;
  doc.ids = std::move(rendered.answered);
  if (eos >= 0) doc.ids.push_back(eos);
  doc.requested_distance = target;
  doc.distance = first.distance;
  doc.answer_start = static_cast<int64_t>(first.context.size());
  doc.answer = first.choices[first.gold];
  for (const eval::ProbeItem& item : rendered.items) {
    const auto begin = static_cast<int64_t>(item.context.size());
    doc.answer_spans.emplace_back(begin, begin + static_cast<int64_t>(item.choices[item.gold].size()));
  }
  return doc;
}

TokenSequences synthetic_sequences(const SyntheticSettings& s, const Encoder& encode, int64_t bos, int64_t eos,
                                   int64_t length, int64_t count, uint64_t seed) {
  std::vector<int64_t> ids;
  std::vector<float> mask;
  int64_t index = 0;
  for (int64_t n = 0; n < count; ++n) {
    int64_t used = 0;
    // Whole documents while the next one fits; at least one per sequence.
    for (;;) {
      SyntheticDocument doc = synthetic_document(s, encode, bos, eos, length, seed, index);
      const auto size = static_cast<int64_t>(doc.ids.size());
      if (used > 0 && used + size > length) break;  // this document starts the next sequence
      ++index;
      ids.insert(ids.end(), doc.ids.begin(), doc.ids.end());
      const size_t doc_start = mask.size();
      mask.insert(mask.end(), doc.ids.size(), s.answers_only ? 0.0f : 1.0f);
      if (bos >= 0) mask[doc_start] = 0.0f;  // BOS is never a target
      if (s.answers_only) {
        for (const auto& [begin, end] : doc.answer_spans) {
          std::fill(mask.begin() + static_cast<std::ptrdiff_t>(doc_start + static_cast<size_t>(begin)),
                    mask.begin() + static_cast<std::ptrdiff_t>(doc_start + static_cast<size_t>(end)), 1.0f);
        }
      }
      used += size;
      if (used == length) break;
    }
    const int64_t pad = length - used;
    ids.insert(ids.end(), static_cast<size_t>(pad), eos >= 0 ? eos : 0);
    mask.insert(mask.end(), static_cast<size_t>(pad), 0.0f);
  }
  TokenSequences out;
  out.ids = torch::tensor(ids).view({count, length});      // [count, length] int64
  out.loss_mask = torch::tensor(mask).view({count, length});  // [count, length] float32
  return out;
}

TokenSequences mix_synthetic(const TokenSequences& train, const SyntheticSettings& s, const Encoder& encode,
                             int64_t bos, int64_t eos, uint64_t seed) {
  if (s.share <= 0 || train.count() == 0) return train;
  const int64_t length = train.ids.size(1);
  const auto count = static_cast<int64_t>(std::ceil(static_cast<double>(train.count()) * s.share / (1 - s.share)));
  const TokenSequences synthetic = synthetic_sequences(s, encode, bos, eos, length, count, seed);
  return {at::cat({train.ids, synthetic.ids}), at::cat({train.loss_mask, synthetic.loss_mask})};
}

}  // namespace lincat::train
