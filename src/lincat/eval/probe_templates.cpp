#include "lincat/eval/probe_templates.h"

#include <algorithm>
#include <set>
#include <string>

namespace lincat::eval {
namespace {

using Ids = std::vector<int64_t>;

void append(Ids& to, const Ids& ids) { to.insert(to.end(), ids.begin(), ids.end()); }

// The first `count` tokens of `filler` repeated.
Ids filler_tokens(const Ids& filler, int64_t count) {
  Ids out;
  for (int64_t i = 0; i < count; ++i) out.push_back(filler[static_cast<size_t>(i) % filler.size()]);
  return out;
}

// `count` distinct numbers in [low, low + span), the first being `answer`.
std::vector<int64_t> numbers_with(int64_t answer, int count, int64_t low, int64_t span, ProbeRandom& random) {
  std::vector<int64_t> numbers = {answer};
  while (static_cast<int>(numbers.size()) < count) {
    const int64_t candidate = low + random.below(span);
    if (std::find(numbers.begin(), numbers.end(), candidate) == numbers.end()) numbers.push_back(candidate);
  }
  return numbers;
}

// Shuffles the choices' order; returns where the answer (index 0) went.
size_t place_answer(std::vector<int64_t>& numbers, ProbeRandom& random) {
  const size_t gold = static_cast<size_t>(random.below(static_cast<int64_t>(numbers.size())));
  std::swap(numbers[0], numbers[gold]);
  return gold;
}

}  // namespace

RenderedProbe render_passkey(const Encoder& encode, const Ids& start, int64_t target, int choices,
                             ProbeRandom& random) {
  // Every piece is encoded without a leading space: SentencePiece's dummy prefix supplies the word
  // boundary, so the tokens are those of the same text encoded whole ("▁The ▁pass"), not a stray
  // "▁" before each piece, which would make every piece start with the same token.
  const Ids intro = encode("There is a pass key hidden in this text. Find it and remember it.");
  const Ids filler = encode("The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.");
  const Ids key_prefix = encode("The pass key is");
  const Ids key_suffix = encode("Remember it.");
  const Ids question = encode("What is the pass key? The pass key is");
  std::vector<int64_t> keys = numbers_with(10000 + random.below(90000), choices, 10000, 90000, random);
  const size_t gold = place_answer(keys, random);
  const Ids key_ids = encode(std::to_string(keys[gold]) + ".");
  const int64_t fixed = static_cast<int64_t>(key_ids.size() + key_suffix.size() + question.size());
  Ids context = start;
  append(context, intro);
  append(context, filler_tokens(filler, random.below(16)));
  append(context, key_prefix);
  const size_t fact = context.size();
  append(context, key_ids);
  append(context, key_suffix);
  append(context, filler_tokens(filler, std::max<int64_t>(0, target - fixed)));
  append(context, question);
  ProbeItem item;
  item.distance = static_cast<int64_t>(context.size() - fact);
  item.context = std::move(context);
  item.requested_distance = target;
  for (int64_t key : keys) item.choices.push_back(encode(std::to_string(key)));
  item.gold = gold;
  RenderedProbe out;
  out.answered = item.context;
  append(out.answered, item.choices[gold]);
  out.items.push_back(std::move(item));
  return out;
}

// Several queries per sequence, about the first pairs; the pairs that follow them fill the
// distance. Earlier queries of a sequence appear answered in the later ones' contexts.
RenderedProbe render_recall(const Encoder& encode, const Ids& start, int64_t target, int choices, int queries,
                            ProbeRandom& random) {
  constexpr int kQueries = 4;
  const int asked = std::min(queries, kQueries);
  const Ids intro = encode("Remember the number of each name.");
  const Ids header = encode("Questions:");  // no leading spaces: see render_passkey
  std::set<std::string> used;
  std::vector<std::pair<Ids, int64_t>> pairs;  // key ids ("abc:"), value
  Ids body;
  std::vector<size_t> fact_positions;
  auto add_pair = [&] {
    std::string name;
    do {
      name.clear();
      for (int c = 0; c < 3; ++c) name += static_cast<char>('a' + random.below(26));
    } while (!used.insert(name).second);
    const int64_t value = 10 + random.below(90);
    pairs.emplace_back(encode(name + ":"), value);
    fact_positions.push_back(body.size());
    append(body, pairs.back().first);
    append(body, encode(std::to_string(value)));
  };
  for (int q = 0; q < kQueries; ++q) add_pair();
  // Enough pairs after the queried ones that the first query sits `target` tokens from its fact.
  while (static_cast<int64_t>(body.size() + header.size() + pairs[0].first.size()) < target) add_pair();
  Ids context = start;
  append(context, intro);
  const size_t body_start = context.size();
  append(context, body);
  append(context, header);
  RenderedProbe out;
  for (int q = 0; q < asked; ++q) {
    const auto& [key, value] = pairs[static_cast<size_t>(q)];
    append(context, key);
    std::vector<int64_t> values = numbers_with(value, choices, 10, 90, random);
    ProbeItem item;
    item.context = Ids(context);  // a copy: later queries extend `context`
    item.gold = place_answer(values, random);
    for (int64_t v : values) item.choices.push_back(encode(std::to_string(v)));
    item.requested_distance = target;
    item.distance = static_cast<int64_t>(context.size() - body_start - fact_positions[static_cast<size_t>(q)]);
    out.items.push_back(std::move(item));
    append(context, encode(std::to_string(value)));
  }
  out.answered = std::move(context);
  return out;
}

}  // namespace lincat::eval
