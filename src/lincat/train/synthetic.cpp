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

// Common English nouns, most of them one token in an English vocabulary: drawn at random, a
// list of them rarely repeats a token, so most tokens of the repeat have one clear source.
const char* const kCopyWords[] = {
    "time", "year", "people", "way", "day", "man", "thing", "woman", "life", "child", "world",
    "school", "state", "family", "student", "group", "country", "problem", "hand", "part", "place",
    "case", "week", "company", "system", "program", "question", "work", "government", "number",
    "night", "point", "home", "water", "room", "mother", "area", "money", "story", "fact", "month",
    "lot", "right", "study", "book", "eye", "job", "word", "business", "issue", "side", "kind",
    "head", "house", "service", "friend", "father", "power", "hour", "game", "line", "end",
    "member", "law", "car", "city", "community", "name", "president", "team", "minute", "idea",
    "kid", "body", "information", "back", "parent", "face", "others", "level", "office", "door",
    "health", "person", "art", "war", "history", "party", "result", "change", "morning", "reason",
    "research", "girl", "guy", "moment", "air", "teacher", "force", "education", "foot", "boy",
    "age", "policy", "music", "market", "sense", "nation", "plan", "college", "interest", "death",
    "experience", "effect", "class", "control", "care", "field", "development", "role", "effort",
    "rate", "heart", "drug", "show", "leader", "light", "voice", "wife", "police", "mind", "price",
    "report", "decision", "son", "view", "relationship", "town", "road", "arm", "difference",
    "value", "building", "action", "model", "season", "society", "tax", "director", "position",
    "player", "record", "paper", "space", "ground", "form", "event", "official", "matter", "center",
    "couple", "site", "project", "activity", "star", "table", "need", "court", "oil", "situation",
    "cost", "industry", "figure", "street", "image", "phone", "data", "picture", "practice",
    "piece", "land", "product", "doctor", "wall", "patient", "worker", "news", "test", "movie",
    "north", "love", "support", "technology", "step", "baby", "computer", "type", "attention",
    "film", "tree", "source", "organization", "hair", "window", "evidence", "population", "camera",
    "river", "garden", "bird", "horse", "stone", "ship", "island", "forest", "king", "queen",
    "summer", "winter", "spring", "bridge", "church", "farm", "glass", "green", "blue", "yellow",
    "black", "white", "silver", "golden", "sea", "sky", "fire", "snow", "rain", "wind", "storm",
    "cloud", "moon", "sun", "apple", "bread", "cheese", "milk", "sugar", "salt", "coffee", "dinner"
};

// Random common words, then "Once more:" and the same words again, so that every token of the
// repeat can be copied from the list `target` tokens back: the densest signal there is for
// learning to look far back (induction), hundreds of targets per document where a passkey has
// a few. Words rather than random letters: a letter string's pieces recur every few tokens,
// which makes "the earlier occurrence" ambiguous (models/teacher/README.md).
eval::RenderedProbe render_copy(const Encoder& encode, const std::vector<int64_t>& start, int64_t target,
                                eval::ProbeRandom& random) {
  const std::vector<int64_t> intro = encode("Copy the words.");
  const std::vector<int64_t> header = encode("Once more:");  // no leading spaces: see render_passkey
  constexpr auto kWords = static_cast<int64_t>(sizeof(kCopyWords) / sizeof(kCopyWords[0]));
  std::vector<int64_t> words;
  while (static_cast<int64_t>(words.size() + header.size()) < target) {
    const std::vector<int64_t> ids = encode(kCopyWords[random.below(kWords)]);
    words.insert(words.end(), ids.begin(), ids.end());
  }
  eval::ProbeItem item;
  item.context = start;
  item.context.insert(item.context.end(), intro.begin(), intro.end());
  item.context.insert(item.context.end(), words.begin(), words.end());
  item.context.insert(item.context.end(), header.begin(), header.end());
  item.choices = {words};
  item.requested_distance = target;
  item.distance = static_cast<int64_t>(words.size() + header.size());
  eval::RenderedProbe out;
  out.answered = item.context;
  out.answered.insert(out.answered.end(), words.begin(), words.end());
  out.items.push_back(std::move(item));
  return out;
}

eval::RenderedProbe render(SyntheticKind kind, const Encoder& encode, const std::vector<int64_t>& start,
                           int64_t target, uint64_t stream_seed) {
  eval::ProbeRandom random(stream_seed);
  constexpr int kChoices = 4;  // as the probes draw them; only the answer is shown
  switch (kind) {
    case SyntheticKind::Passkey:
      return eval::render_passkey(encode, start, target, kChoices, random);
    case SyntheticKind::Copy:
      return render_copy(encode, start, target, random);
    case SyntheticKind::AssociativeRecall:
      return eval::render_recall(encode, start, target, kChoices, 4, random);
  }
  throw std::logic_error("unhandled synthetic kind");
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
  const SyntheticKind parsed = parse_synthetic_kind(kind);
  eval::RenderedProbe rendered = render(parsed, encode, start, target, stream_seed);
  // Too long for the sequence: shorten the distance by the excess and render the same draws again.
  // Token counts do not shrink exactly with the distance (pairs and filler come in whole
  // pieces), so each retry takes off a little more than the excess to avoid oscillating.
  for (int attempt = 0; attempt < 32; ++attempt) {
    const int64_t excess = static_cast<int64_t>(rendered.answered.size()) + extra - max_tokens;
    if (excess <= 0) break;
    target = std::max<int64_t>(1, target - excess - attempt);
    rendered = render(parsed, encode, start, target, stream_seed);
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
