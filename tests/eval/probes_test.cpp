// Long-range probes: deterministic from the seed, facts at the requested distance, answers that
// are the hidden facts.
#include <gtest/gtest.h>

#include "eval/eval_test_support.h"
#include "lincat/eval/probes.h"
#include "lincat/io/tokenizer.h"

namespace {

using lincat::eval::ProbeKind;
using lincat::eval::ProbeSettings;

struct Fixture {
  std::unique_ptr<lincat::io::Tokenizer> tokenizer = lincat::io::Tokenizer::load(lincat::test::kTinyTokenizer);
  lincat::eval::Encoder encode = [this](const std::string& text) { return tokenizer->encode(text); };
};

ProbeSettings settings(uint64_t seed) {
  ProbeSettings s;
  s.distances = lincat::eval::window_distances(16);
  s.items_per_distance = 3;
  s.seed = seed;
  return s;
}

TEST(EvalProbes, DistancesAreRelativeToTheWindow) {
  EXPECT_EQ(lincat::eval::window_distances(64), (std::vector<int64_t>{32, 64, 128, 256, 512, 1024, 2048}));
  EXPECT_EQ(lincat::eval::window_distances(1).front(), 1);
}

TEST(EvalProbes, SameSeedSameItemsOtherSeedOtherItems) {
  Fixture f;
  for (ProbeKind kind : {ProbeKind::Passkey, ProbeKind::AssociativeRecall}) {
    const auto a = lincat::eval::make_probe(kind, f.encode, 1, settings(7));
    const auto b = lincat::eval::make_probe(kind, f.encode, 1, settings(7));
    const auto c = lincat::eval::make_probe(kind, f.encode, 1, settings(8));
    ASSERT_EQ(a.size(), 7u * 3u);
    bool any_difference = false;
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].context, b[i].context);
      EXPECT_EQ(a[i].choices, b[i].choices);
      EXPECT_EQ(a[i].gold, b[i].gold);
      any_difference = any_difference || a[i].context != c[i].context;
    }
    EXPECT_TRUE(any_difference) << lincat::eval::probe_name(kind);
  }
}

TEST(EvalProbes, PasskeySitsAtTheRequestedDistanceAndIsTheAnswer) {
  Fixture f;
  const auto items = lincat::eval::make_probe(ProbeKind::Passkey, f.encode, 1, settings(3));
  for (const auto& item : items) {
    EXPECT_EQ(item.context.front(), 1);  // BOS
    EXPECT_GE(item.distance, item.requested_distance);
    if (item.requested_distance >= 64) {
      EXPECT_EQ(item.distance, item.requested_distance);
    }
    EXPECT_EQ(item.choices.size(), 4u);
    // The true key's tokens start exactly `distance` tokens before the end of the context.
    const auto& key = item.choices[item.gold];
    const auto at = item.context.end() - item.distance;
    EXPECT_TRUE(std::equal(key.begin(), key.end(), at));
  }
}

// Pieces are encoded without a leading space, so an item's tokens are those of its text encoded
// whole: a piece encoded as " The" would start with a stray "▁" token from the dummy prefix, and
// then every piece of every item would start with the same token (and the text would show a
// doubled space). The bundled teacher's tokenizer (byte fallback: every character round-trips,
// where the tiny one has <unk>) decodes and re-encodes each context.
TEST(EvalProbes, ItemsHaveTheTokensOfTheirTextEncodedWhole) {
  const auto tokenizer = lincat::io::Tokenizer::load(LINCAT_TEST_DATA "/../../models/teacher/tokenizer.model");
  const lincat::eval::Encoder encode = [&](const std::string& text) { return tokenizer->encode(text); };
  ProbeSettings s = settings(5);
  s.distances = {40, 100};
  for (ProbeKind kind : {ProbeKind::Passkey, ProbeKind::AssociativeRecall}) {
    for (const auto& item : lincat::eval::make_probe(kind, encode, 1, s)) {
      std::vector<int64_t> answered(item.context.begin() + 1, item.context.end());  // without BOS
      answered.insert(answered.end(), item.choices[item.gold].begin(), item.choices[item.gold].end());
      const std::string text = tokenizer->decode(answered);
      EXPECT_EQ(text.find("  "), std::string::npos) << "a doubled space in: " << text;
      EXPECT_EQ(encode(text), answered) << lincat::eval::probe_name(kind);
    }
  }
}

TEST(EvalProbes, RecallQueriesAskAboutPairsAtLeastTheDistanceBack) {
  // One token per character (and no dummy prefix), so that a key "abc:" is 4 tokens and a value "42" 2.
  const lincat::eval::Encoder bytes = [](const std::string& text) {
    std::vector<int64_t> ids;
    for (unsigned char c : text) ids.push_back(c);
    return ids;
  };
  const auto items = lincat::eval::make_probe(ProbeKind::AssociativeRecall, bytes, 1, settings(3));
  ASSERT_FALSE(items.empty());
  for (const auto& item : items) {
    EXPECT_GE(item.distance, item.requested_distance);
    EXPECT_LT(item.distance, item.requested_distance + 60);
    // The fact `distance` tokens back is the queried key followed by the true value.
    const auto fact = item.context.end() - item.distance;
    EXPECT_TRUE(std::equal(item.context.end() - 4, item.context.end(), fact));
    const auto& value = item.choices[item.gold];
    EXPECT_TRUE(std::equal(value.begin(), value.end(), fact + 4));
  }
}

}  // namespace
