// The in-memory data loader: order, determinism, drop_last, sharding and resuming mid-epoch.
#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

#include "data/loader.h"

using namespace reel;

namespace {

SequenceDataset<float> dataset(int64_t n) {
  SequenceDataset<float> d("train");
  for (int64_t i = 0; i < n; ++i) d.add_ids(std::vector<int64_t>(static_cast<size_t>(1 + i % 7), i), {}, i % 3);
  return d;
}

// Every batch of the next epoch, as lists of dataset indices.
std::vector<std::vector<int64_t>> epoch(DataLoader<float>& l) {
  std::vector<std::vector<int64_t>> out;
  for (SequenceBatch<float> b; l.next(b);) out.push_back(b.index);
  return out;
}

}  // namespace

TEST_CASE("DataLoader: every sequence once per epoch, shuffled from its seed, fixed order when asked", "[data][loader]") {
  const auto d = dataset(23);
  DataLoader<float> a(d, {5, true}, 7), b(d, {5, true}, 7), c(d, {5, true}, 8), fixed(d, {5, false});
  const auto e1 = epoch(a), e2 = epoch(a);
  CHECK(a.epoch() == 2);
  CHECK(e1.size() == 5u);  // 23 = 4 x 5 + 3
  CHECK(e1.back().size() == 3u);
  std::vector<int64_t> all;
  for (const auto& bt : e1) all.insert(all.end(), bt.begin(), bt.end());
  std::sort(all.begin(), all.end());
  for (int64_t i = 0; i < 23; ++i) CHECK(all[static_cast<size_t>(i)] == i);
  CHECK(e1 != e2);            // a new order every epoch
  CHECK(epoch(b) == e1);      // the same seed, the same order
  CHECK(epoch(c) != e1);
  CHECK(epoch(fixed) == std::vector<std::vector<int64_t>>{{0, 1, 2, 3, 4}, {5, 6, 7, 8, 9}, {10, 11, 12, 13, 14},
                                                          {15, 16, 17, 18, 19}, {20, 21, 22}});
  DataLoader<float> drop(d, {5, true, false, /*drop_last=*/true}, 7);
  CHECK(drop.batches_per_epoch() == 4);
  const auto dropped = epoch(drop);
  CHECK(dropped.size() == 4u);
  for (const auto& bt : dropped) CHECK(bt.size() == 5u);
  SequenceBatch<float> batch;
  DataLoader<float> labels(d, {4, false});
  REQUIRE(labels.next(batch));
  CHECK(batch.labels == std::vector<int64_t>{0, 1, 2, 0});
  CHECK_THROWS_WITH(DataLoader<float>(d, {0}), Catch::Contains("batch_size must be >= 1"));
  SequenceDataset<float> empty("dev");
  CHECK_THROWS_WITH(DataLoader<float>(empty, {4}), Catch::Contains("the dev split holds no sequence"));
}

TEST_CASE("DataLoader: length bucketing keeps batches of similar lengths", "[data][loader]") {
  const auto d = dataset(200);
  DataLoader<float> bucketed(d, {10, true, true}, 3);
  DataLoader<float> random(d, {10, true}, 3);
  auto spread = [](DataLoader<float>& l) {
    int64_t worst = 0;
    for (SequenceBatch<float> b; l.next(b);)
      worst = std::max(worst, *std::max_element(b.lengths.begin(), b.lengths.end()) -
                                  *std::min_element(b.lengths.begin(), b.lengths.end()));
    return worst;
  };
  // 7 distinct lengths, ~29 sequences each: a bucketed batch holds at most two neighbouring ones.
  CHECK(spread(bucketed) <= 1);
  CHECK(spread(random) == 6);
}

TEST_CASE("DataLoader: shards of a global batch are contiguous parts in rank order", "[data][loader]") {
  const auto d = dataset(17);
  for (int size : {2, 3}) {
    DataLoader<float> whole(d, {6, true}, 4);
    std::vector<DataLoader<float>> ranks;
    for (int r = 0; r < size; ++r) {
      ranks.emplace_back(d, LoaderOptions{6, true}, 4);
      ranks.back().shard(r, size);
    }
    for (SequenceBatch<float> w; whole.next(w);) {
      std::vector<int64_t> joined;
      for (auto& l : ranks) {
        SequenceBatch<float> part;
        REQUIRE(l.next(part));
        CHECK(l.global_batch() == w.index);
        joined.insert(joined.end(), part.index.begin(), part.index.end());
      }
      CHECK(joined == w.index);
    }
  }
}

TEST_CASE("DataLoader: saved mid-epoch, a new loader continues with the very next batch", "[data][loader]") {
  const auto d = dataset(41);
  for (int64_t stop : {0, 1, 3, 9}) {  // 9 = the epoch's last batch done, the epoch not yet closed
    DataLoader<float> straight(d, {5, true, true}, 11);
    epoch(straight);  // one whole epoch first
    std::vector<std::vector<int64_t>> rest_straight;
    for (SequenceBatch<float> b; straight.next(b);) rest_straight.push_back(b.index);
    const auto next_epoch = epoch(straight);

    DataLoader<float> first(d, {5, true, true}, 11);
    epoch(first);
    SequenceBatch<float> b;
    for (int64_t k = 0; k < stop; ++k) REQUIRE(first.next(b));
    TrainingState st;
    first.save(st);
    INFO("stopped after " << stop << " batches of epoch 2");
    DataLoader<float> resumed(d, {5, true, true}, 999);  // the seed is overridden by the saved state
    resumed.restore(st);
    std::vector<std::vector<int64_t>> rest;
    for (SequenceBatch<float> r; resumed.next(r);) rest.push_back(r.index);
    CHECK(rest == std::vector<std::vector<int64_t>>(rest_straight.begin() + stop, rest_straight.end()));
    CHECK(epoch(resumed) == next_epoch);
    CHECK(resumed.epoch() == 3);
  }
  TrainingState none;
  DataLoader<float> l(d, {5});
  CHECK_THROWS_WITH(l.restore(none), Catch::Contains("no 'loader' random state"));
}
