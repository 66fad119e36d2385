#include "lincat/eval/probes.h"

#include <algorithm>

#include "lincat/eval/metrics.h"
#include "lincat/util/error.h"

namespace lincat::eval {
namespace {

using Ids = std::vector<int64_t>;

std::vector<ProbeItem> passkey_items(const Encoder& encode, const Ids& start, const ProbeSettings& s,
                                     int64_t target, ProbeRandom& random) {
  std::vector<ProbeItem> items;
  for (int n = 0; n < s.items_per_distance; ++n) {
    RenderedProbe rendered = render_passkey(encode, start, target, s.choices, random);
    items.push_back(std::move(rendered.items.front()));
  }
  return items;
}

std::vector<ProbeItem> recall_items(const Encoder& encode, const Ids& start, const ProbeSettings& s, int64_t target,
                                    ProbeRandom& random) {
  std::vector<ProbeItem> items;
  while (static_cast<int>(items.size()) < s.items_per_distance) {
    const int remaining = s.items_per_distance - static_cast<int>(items.size());
    for (ProbeItem& item : render_recall(encode, start, target, s.choices, remaining, random).items) {
      items.push_back(std::move(item));
    }
  }
  return items;
}

}  // namespace

std::string probe_name(ProbeKind kind) { return kind == ProbeKind::Passkey ? "passkey" : "associative_recall"; }

std::vector<int64_t> window_distances(int64_t window) {
  std::vector<int64_t> distances = {std::max<int64_t>(1, window / 2)};
  for (int64_t multiple = 1; multiple <= 32; multiple *= 2) distances.push_back(window * multiple);
  return distances;
}

std::vector<ProbeItem> make_probe(ProbeKind kind, const Encoder& encode, int64_t bos, const ProbeSettings& settings) {
  if (settings.choices < 2 || settings.choices > 10) {
    throw UserError("probe choices must be in 2..10, found " + std::to_string(settings.choices));
  }
  if (settings.items_per_distance < 1) {
    throw UserError("probe items per distance must be >= 1, found " + std::to_string(settings.items_per_distance));
  }
  const Ids start = bos >= 0 ? Ids{bos} : Ids{};
  std::vector<ProbeItem> items;
  for (size_t d = 0; d < settings.distances.size(); ++d) {
    // One stream per (kind, distance): adding a distance leaves the others' items unchanged.
    ProbeRandom random(settings.seed * 1000003u + static_cast<uint64_t>(kind) * 7919u + d);
    const int64_t target = settings.distances[d];
    std::vector<ProbeItem> batch = kind == ProbeKind::Passkey ? passkey_items(encode, start, settings, target, random)
                                                              : recall_items(encode, start, settings, target, random);
    for (ProbeItem& item : batch) items.push_back(std::move(item));
  }
  return items;
}

std::vector<ProbePoint> score_probe(const Scorer& scorer, const std::vector<ProbeItem>& items,
                                    const ProbeSettings& settings, const ItemProgress& progress) {
  std::vector<ProbePoint> points;
  int64_t done = 0, total = 0;
  for (const ProbeItem& item : items) {
    total += std::count(settings.distances.begin(), settings.distances.end(), item.requested_distance) > 0 ? 1 : 0;
  }
  for (int64_t distance : settings.distances) {
    ProbePoint point{distance, 0, 0, {}};
    for (const ProbeItem& item : items) {
      if (item.requested_distance != distance) continue;
      std::vector<double> ll;
      for (const ContinuationScore& s : scorer.score(item.context, item.choices)) ll.push_back(s.log_likelihood);
      point.correct.push_back(first_argmax(ll) == item.gold);
      point.accuracy += point.correct.back() ? 1 : 0;
      ++point.items;
      if (progress) progress(++done, total);
    }
    if (point.items > 0) point.accuracy /= point.items;
    points.push_back(point);
  }
  return points;
}

}  // namespace lincat::eval
