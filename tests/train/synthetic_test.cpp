// Synthetic long-range documents: rendered with the probes' templates, the answer in place right
// after the question, the fact at the drawn distance, a stream apart from the probes', and mixed
// into the training sequences in the configured share; copy documents repeat a word list.
#include <gtest/gtest.h>

#include <algorithm>

#include "lincat/eval/probes.h"
#include "lincat/io/tokenizer.h"
#include "lincat/train/synthetic.h"
#include "test_paths.h"

namespace lincat::train {
namespace {

using Ids = std::vector<int64_t>;

struct Fixture {
  std::unique_ptr<io::Tokenizer> tokenizer = io::Tokenizer::load(LINCAT_TEST_DATA "/tokenizer/tiny.model");
  Encoder encode = [this](const std::string& text) { return tokenizer->encode(text); };
};

SyntheticSettings settings(const std::string& kind) {
  SyntheticSettings s;
  s.share = 0.5;
  s.kinds = {kind};
  s.min_distance = 40;
  s.max_distance = 200;
  return s;
}

bool starts_with(const Ids& ids, size_t at, const Ids& part) {
  return at + part.size() <= ids.size() && std::equal(part.begin(), part.end(), ids.begin() + static_cast<long>(at));
}

bool ends_with(const Ids& ids, size_t end, const Ids& part) {
  return end >= part.size() && starts_with(ids, end - part.size(), part);
}

TEST(TrainSynthetic, PasskeyHasTheAnswerAfterTheProbesQuestionAtTheDrawnDistance) {
  Fixture f;
  eval::ProbeSettings probe;
  probe.distances = {100};
  probe.items_per_distance = 1;
  const eval::ProbeItem reference = eval::make_probe(eval::ProbeKind::Passkey, f.encode, 1, probe).front();
  const Ids question = f.encode("What is the pass key? The pass key is");
  const Ids intro = f.encode("There is a pass key hidden in this text. Find it and remember it.");
  ASSERT_TRUE(ends_with(reference.context, reference.context.size(), question));  // the probes' own template
  std::vector<int64_t> distances;
  for (int64_t index = 0; index < 20; ++index) {
    const SyntheticDocument doc = synthetic_document(settings("passkey"), f.encode, 1, 2, 512, 9, index);
    EXPECT_EQ(doc.kind, "passkey");
    EXPECT_EQ(doc.ids.front(), 1);
    EXPECT_EQ(doc.ids.back(), 2);
    EXPECT_TRUE(starts_with(doc.ids, 1, intro));
    const auto answer_start = static_cast<size_t>(doc.answer_start);
    EXPECT_TRUE(ends_with(doc.ids, answer_start, question)) << index;
    EXPECT_TRUE(starts_with(doc.ids, answer_start, doc.answer)) << index;
    EXPECT_EQ(answer_start + doc.answer.size() + 1, doc.ids.size());
    // The key itself sits `distance` tokens before the answer, after the probes' key prefix.
    const size_t fact = answer_start - static_cast<size_t>(doc.distance);
    EXPECT_TRUE(starts_with(doc.ids, fact, doc.answer)) << index;
    EXPECT_TRUE(ends_with(doc.ids, fact, f.encode("The pass key is"))) << index;
    EXPECT_GE(doc.requested_distance, 40);
    EXPECT_LE(doc.requested_distance, 200);
    EXPECT_EQ(doc.distance, doc.requested_distance);  // exact once the key and question fit
    distances.push_back(doc.distance);
  }
  EXPECT_GT(*std::max_element(distances.begin(), distances.end()) - *std::min_element(distances.begin(), distances.end()), 40);
}

TEST(TrainSynthetic, RecallAnswersEveryQueryWithTheProbesTemplate) {
  Fixture f;
  for (int64_t index = 0; index < 10; ++index) {
    const SyntheticDocument doc = synthetic_document(settings("associative_recall"), f.encode, 1, 2, 512, 4, index);
    EXPECT_TRUE(starts_with(doc.ids, 1, f.encode("Remember the number of each name.")));
    const auto answer_start = static_cast<size_t>(doc.answer_start);
    EXPECT_TRUE(starts_with(doc.ids, answer_start, doc.answer));
    // The first queried pair ("<key>: <value>") is `distance` tokens back; its value is the answer.
    const size_t fact = answer_start - static_cast<size_t>(doc.distance);
    EXPECT_GE(doc.distance, doc.requested_distance);
    EXPECT_LE(doc.distance, doc.requested_distance + 12);
    EXPECT_TRUE(std::search(doc.ids.begin() + static_cast<long>(fact), doc.ids.begin() + static_cast<long>(answer_start),
                            doc.answer.begin(), doc.answer.end()) != doc.ids.begin() + static_cast<long>(answer_start));
    const Ids header = f.encode("Questions:");
    EXPECT_NE(std::search(doc.ids.begin(), doc.ids.end(), header.begin(), header.end()), doc.ids.end());
  }
}

TEST(TrainSynthetic, CopyRepeatsTheWordListAsItsAnswerAtTheDrawnDistance) {
  Fixture f;
  for (int64_t index = 0; index < 10; ++index) {
    SyntheticSettings s = settings("copy");
    s.answers_only = true;
    const SyntheticDocument doc = synthetic_document(s, f.encode, 1, 2, 512, 7, index);
    EXPECT_EQ(doc.kind, "copy");
    EXPECT_TRUE(starts_with(doc.ids, 1, f.encode("Copy the words.")));
    const auto answer_start = static_cast<size_t>(doc.answer_start);
    EXPECT_TRUE(ends_with(doc.ids, answer_start, f.encode("Once more:"))) << index;
    ASSERT_EQ(doc.answer_spans.size(), 1u);
    EXPECT_EQ(answer_start + doc.answer.size() + 1, doc.ids.size());  // the repeat, then EOS
    // The answer is the list itself, which starts `distance` tokens before the repeat.
    const size_t list = answer_start - static_cast<size_t>(doc.distance);
    EXPECT_EQ(list, 1 + f.encode("Copy the words.").size());
    EXPECT_TRUE(starts_with(doc.ids, list, doc.answer)) << index;
    EXPECT_GE(doc.distance, doc.requested_distance);
    EXPECT_GE(doc.requested_distance, 40);
    EXPECT_LE(doc.requested_distance, 200);
    EXPECT_GT(doc.answer.size(), 30u);  // a dense target: every token of the repeat
  }
  // Long draws are shortened until list and repeat both fit.
  SyntheticSettings s = settings("copy");
  s.min_distance = s.max_distance = 400;
  EXPECT_LE(synthetic_document(s, f.encode, 1, 2, 512, 7, 0).ids.size(), 512u);
}

TEST(TrainSynthetic, StreamDependsOnSeedAndIndexAndDocumentsFitTheSequence) {
  Fixture f;
  const SyntheticSettings s = settings("passkey");
  EXPECT_EQ(synthetic_document(s, f.encode, 1, 2, 512, 5, 3).ids, synthetic_document(s, f.encode, 1, 2, 512, 5, 3).ids);
  EXPECT_NE(synthetic_document(s, f.encode, 1, 2, 512, 5, 3).ids, synthetic_document(s, f.encode, 1, 2, 512, 6, 3).ids);
  EXPECT_NE(synthetic_document(s, f.encode, 1, 2, 512, 5, 3).ids, synthetic_document(s, f.encode, 1, 2, 512, 5, 4).ids);
  for (int64_t index = 0; index < 10; ++index) {
    const SyntheticDocument doc = synthetic_document(s, f.encode, 1, 2, 120, 5, index);
    EXPECT_LE(doc.ids.size(), 120u);  // long draws are shortened to fit
  }
}

TEST(TrainSynthetic, MixingAddsTheShareOfWholeDocumentSequences) {
  Fixture f;
  TokenSequences text{torch::ones({12, 256}, at::kLong), torch::ones({12, 256})};
  SyntheticSettings s = settings("passkey");
  s.share = 0.25;
  const TokenSequences mixed = mix_synthetic(text, s, f.encode, 1, 2, 0);
  ASSERT_EQ(mixed.count(), 16);  // 4 of 16 synthetic
  EXPECT_TRUE(at::equal(mixed.ids.narrow(0, 0, 12), text.ids));
  for (int64_t i = 12; i < 16; ++i) {
    EXPECT_EQ(mixed.ids[i][0].item<int64_t>(), 1);           // starts with a document's BOS
    EXPECT_EQ(mixed.loss_mask[i][0].item<float>(), 0.0f);    // BOS is no target
    EXPECT_GT(mixed.loss_mask[i].sum().item<float>(), 100);  // mostly trained on
  }
  s.share = 0;
  EXPECT_EQ(mix_synthetic(text, s, f.encode, 1, 2, 0).count(), 12);
}

TEST(TrainSynthetic, AnswersOnlyMakesEveryAnswerTokenAndNothingElseATarget) {
  Fixture f;
  for (const char* kind : {"passkey", "associative_recall"}) {
    SyntheticSettings s = settings(kind);
    s.answers_only = true;
    // One document per sequence (the longest possible) so the spans are easy to find.
    s.min_distance = s.max_distance = 200;
    const SyntheticDocument doc = synthetic_document(s, f.encode, 1, 2, 256, 0, 0);
    const TokenSequences sequences = synthetic_sequences(s, f.encode, 1, 2, 256, 1, 0);
    ASSERT_EQ(sequences.ids.narrow(1, 0, static_cast<int64_t>(doc.ids.size())).reshape({-1}).numel(),
              static_cast<int64_t>(doc.ids.size()));
    ASSERT_EQ(doc.answer_spans.size(), std::string(kind) == "passkey" ? 1u : 4u) << kind;
    std::vector<float> expected(256, 0.0f);
    for (const auto& [begin, end] : doc.answer_spans) {
      ASSERT_LT(begin, end);
      for (int64_t i = begin; i < end; ++i) expected[static_cast<size_t>(i)] = 1.0f;
    }
    EXPECT_EQ(Ids(doc.ids.begin() + doc.answer_spans[0].first, doc.ids.begin() + doc.answer_spans[0].second), doc.answer);
    EXPECT_TRUE(at::equal(sequences.loss_mask[0], torch::tensor(expected))) << kind;
  }
}

}  // namespace
}  // namespace lincat::train
