// Padding, PyTorch-compatible packing and seeded bucketed batching.
#include <catch2/catch.hpp>
#include <algorithm>
#include <numeric>
#include <vector>

#include "data/batching.h"
#include "data/dataset.h"
#include "framework/error.h"
#include "framework/rng.h"

using namespace reel;

namespace {

// Sequence b of length len with `features` floats per step, value 100*b + 10*t + f.
std::vector<std::vector<float>> make_seqs(const std::vector<int64_t>& lengths, int64_t features) {
  std::vector<std::vector<float>> seqs;
  for (size_t b = 0; b < lengths.size(); ++b) {
    std::vector<float> s;
    for (int64_t t = 0; t < lengths[b]; ++t)
      for (int64_t f = 0; f < features; ++f) s.push_back(static_cast<float>(100 * b + 10 * t + f));
    seqs.push_back(s);
  }
  return seqs;
}

std::vector<int64_t> flatten_sorted(const std::vector<std::vector<int64_t>>& batches) {
  std::vector<int64_t> all;
  for (const auto& b : batches) all.insert(all.end(), b.begin(), b.end());
  std::sort(all.begin(), all.end());
  return all;
}

double mean_spread(const std::vector<std::vector<int64_t>>& batches, const std::vector<int64_t>& lengths) {
  double sum = 0;
  for (const auto& b : batches) {
    int64_t lo = lengths[static_cast<size_t>(b[0])], hi = lo;
    for (int64_t i : b) lo = std::min(lo, lengths[static_cast<size_t>(i)]), hi = std::max(hi, lengths[static_cast<size_t>(i)]);
    sum += static_cast<double>(hi - lo);
  }
  return sum / static_cast<double>(batches.size());
}

}  // namespace

TEST_CASE("collate pads: shapes, values, mask and lengths", "[data][batching]") {
  const SequenceBatch<float> p = collate_dense(make_seqs({2, 1, 3}, 2), 2, -1.0f);
  CHECK(p.batch == 3);
  CHECK(p.max_len == 3);
  CHECK(p.features == 2);
  CHECK(p.lengths == std::vector<int64_t>{2, 1, 3});
  CHECK(p.mask == std::vector<float>{1, 1, 0, 1, 0, 0, 1, 1, 1});
  REQUIRE(p.values.size() == 3u * 3 * 2);
  CHECK(std::vector<float>(p.values.begin(), p.values.begin() + 6) == std::vector<float>{0, 1, 10, 11, -1, -1});
  CHECK(std::vector<float>(p.values.begin() + 6, p.values.begin() + 12) == std::vector<float>{100, 101, -1, -1, -1, -1});
  CHECK(std::vector<float>(p.values.begin() + 12, p.values.end()) == std::vector<float>{200, 201, 210, 211, 220, 221});
  CHECK_THROWS_AS(collate_dense<float>({{1, 2, 3}}, 2), ShapeError);
  CHECK_THROWS_AS(collate_dense<float>({{1}}, 0), UsageError);
  // An empty sequence is refused, as pack_padded_sequence refuses length 0, naming it.
  CHECK_THROWS_WITH(collate_dense<float>({{1, 2}, {}}, 2), Catch::Contains("sequence 1: empty sequence"));
  CHECK_THROWS_WITH(collate_dense<float>({}, 4), Catch::Contains("no sequence selected"));

  const SequenceBatch<float> ids = collate_ids({{5, 6, 7}, {8}}, 0);
  CHECK(ids.batch == 2);
  CHECK(ids.max_len == 3);
  CHECK(ids.ids == std::vector<int64_t>{5, 6, 7, 8, 0, 0});
  CHECK(ids.mask == std::vector<float>{1, 1, 1, 1, 0, 0});
  CHECK(ids.lengths == std::vector<int64_t>{3, 1});
}

TEST_CASE("collate from a dataset carries targets, indices and one packed layout", "[data][batching]") {
  SequenceDataset<float> d("train");
  d.add_ids({1, 2, 3}, {7, 8, 9});
  d.add_ids({4}, {5});
  d.add_ids({6, 7}, {1, 2});
  const SequenceBatch<float> b = collate(d, {2, 0}, /*pad_id=*/0);
  CHECK(b.index == std::vector<int64_t>{2, 0});
  CHECK(b.ids == std::vector<int64_t>{6, 7, 0, 1, 2, 3});
  CHECK(b.tags == std::vector<int64_t>{1, 2, 0, 7, 8, 9});
  CHECK(b.labels.empty());
  CHECK(b.tokens() == 5);
  // The packed layout is made once and reused; changing the lengths makes a new one.
  const PackedLayout* first = &b.packed();
  CHECK(&b.packed() == first);
  CHECK(b.packed().info.sorted_indices == std::vector<int64_t>{1, 0});
  CHECK(b.packed().rows == std::vector<int64_t>{3, 0, 4, 1, 5});
  SequenceBatch<float> c = b;
  c.lengths = {1, 3};
  CHECK(c.packed().rows == std::vector<int64_t>{3, 0, 4, 5});
  CHECK_THROWS_WITH(collate(d, {3}), Catch::Contains("index 3 outside train's 3 sequences"));
  CHECK_THROWS_WITH(d.add_ids({1, 2}), Catch::Contains("targets differ in kind"));
  CHECK_THROWS_WITH(d.add_ids({1, 2}, {1}), Catch::Contains("1 tags for 2 steps"));
  SequenceDataset<float> empty("dev");
  CHECK_THROWS_WITH(empty.require_nonempty(), Catch::Contains("the dev split holds no sequence"));

  SequenceDataset<double> images("images");
  images.add_dense({1, 2, 3, 4}, 2, /*label=*/3);
  images.add_dense({5, 6}, 2, /*label=*/1);
  const SequenceBatch<double> ib = collate(images, {0, 1});
  CHECK(ib.labels == std::vector<int64_t>{3, 1});
  CHECK(ib.values == std::vector<double>{1, 2, 3, 4, 5, 6, 0, 0});
  CHECK_THROWS_WITH(images.add_dense({1, 2, 3}, 3, 0), Catch::Contains("a sequence of 3 features added to a dataset of 2 features"));
}

TEST_CASE("make_pack_info matches pack_padded_sequence(enforce_sorted=False)", "[data][batching]") {
  // Reference: torch.nn.utils.rnn.pack_padded_sequence(x, [5, 3, 7, 2], enforce_sorted=False)
  // gives sorted_indices [2, 0, 1, 3], unsorted_indices [1, 2, 0, 3], batch_sizes [4, 4, 3, 2, 2, 1, 1].
  const PackInfo info = make_pack_info({5, 3, 7, 2});
  CHECK(info.sorted_indices == std::vector<int64_t>{2, 0, 1, 3});
  CHECK(info.unsorted_indices == std::vector<int64_t>{1, 2, 0, 3});
  CHECK(info.batch_sizes == std::vector<int64_t>{4, 4, 3, 2, 2, 1, 1});
  CHECK(info.lengths_sorted == std::vector<int64_t>{7, 5, 3, 2});
  CHECK(info.total() == 17);
  CHECK(info.max_len() == 7);
  CHECK(packed_step_offsets(info) == std::vector<int64_t>{0, 4, 8, 11, 13, 15, 16});
  for (size_t i = 0; i < 4; ++i)
    CHECK(info.unsorted_indices[static_cast<size_t>(info.sorted_indices[i])] == static_cast<int64_t>(i));

  // Ties keep their original order (stable sort).
  const PackInfo ties = make_pack_info({3, 5, 3, 5, 1});
  CHECK(ties.sorted_indices == std::vector<int64_t>{1, 3, 0, 2, 4});
  CHECK(ties.batch_sizes == std::vector<int64_t>{5, 4, 4, 2, 2});

  CHECK(make_pack_info({4}).batch_sizes == std::vector<int64_t>{1, 1, 1, 1});
  CHECK_THROWS_AS(make_pack_info({3, 0, 2}), UsageError);
  CHECK_THROWS_AS(make_pack_info({}), UsageError);
}

TEST_CASE("pack is time-major in sorted order and unpack inverts it", "[data][batching]") {
  const std::vector<int64_t> lengths = {5, 3, 7, 2};
  const SequenceBatch<float> padded = collate_dense(make_seqs(lengths, 2), 2);
  const PackInfo& info = padded.packed().info;
  const std::vector<float> packed = pack(padded);
  REQUIRE(packed.size() == 17u * 2);
  // Step 0: sequences 2, 0, 1, 3; step 1: the same; step 2: 2, 0, 1; ... step 6: 2.
  std::vector<float> first_feature;
  for (size_t r = 0; r < 17; ++r) first_feature.push_back(packed[2 * r]);
  CHECK(first_feature == std::vector<float>{200, 0, 100, 300, 210, 10, 110, 310, 220, 20, 120,
                                            230, 30, 240, 40, 250, 260});
  CHECK(packed[1] == 201);
  CHECK(info.total() == 17);

  // Back to (batch, max_len, features) in the original order, as pad_packed_sequence gives it.
  CHECK(unpack(packed, 2, padded) == padded.values);
  CHECK(unpack(packed, 2, padded, -1.0f)[2 * 7 * 3 + 2 * 3] == -1.0f);  // sequence 3, step 3: padding

  const SequenceBatch<float> ids = collate_ids({{1, 2, 3, 4, 5}, {6, 7, 8}, {9, 10, 11, 12, 13, 14, 15}, {16, 17}}, 0);
  CHECK(pack_ids(ids) == std::vector<int64_t>{9, 1, 6, 16, 10, 2, 7, 17, 11, 3, 8, 12, 4, 13, 5, 14, 15});

  CHECK_THROWS_AS(pack_ids(padded), UsageError);
  CHECK_THROWS_AS(pack(ids), UsageError);
  CHECK_THROWS_AS(unpack(std::vector<float>(33), 2, padded), UsageError);
}

TEST_CASE("make_batches covers every index once and is deterministic per seed", "[data][batching]") {
  Rng gen(7);
  std::vector<int64_t> lengths(1000);
  for (auto& l : lengths) l = 1 + static_cast<int64_t>(gen.below(60));
  std::vector<int64_t> every(lengths.size());
  std::iota(every.begin(), every.end(), int64_t{0});

  for (bool bucket : {false, true}) {
    Rng a(42), b(42), c(43);
    const auto ba = make_batches(lengths, 32, a, true, bucket);
    const auto bb = make_batches(lengths, 32, b, true, bucket);
    const auto bc = make_batches(lengths, 32, c, true, bucket);
    CHECK(ba.size() == 32u);  // ceil(1000 / 32)
    CHECK(flatten_sorted(ba) == every);
    CHECK(flatten_sorted(bc) == every);
    CHECK(ba == bb);
    CHECK(ba != bc);
    size_t partial = 0;
    for (const auto& batch : ba) partial += batch.size() != 32u;
    CHECK(partial == 1u);
    CHECK(a.state() == b.state());
    // Restoring a saved state replays the same epoch.
    Rng d(1);
    d.set_state(Rng(42).state());
    CHECK(make_batches(lengths, 32, d, true, bucket) == ba);
  }
  // Without shuffling: consecutive batches in index order, rng untouched.
  Rng r(5);
  const auto before = r.state();
  const auto plain = make_batches({3, 1, 2, 5, 4}, 2, r, false, false);
  CHECK(plain == std::vector<std::vector<int64_t>>{{0, 1}, {2, 3}, {4}});
  CHECK(r.state() == before);
  CHECK(make_batches({3, 1, 2, 5, 4}, 2, r, false, true) ==
        std::vector<std::vector<int64_t>>{{3, 4}, {0, 2}, {1}});
  CHECK(make_batches({}, 4, r, true, true).empty());
  CHECK_THROWS_AS(make_batches({1, 2}, 0, r, true, true), UsageError);
  CHECK_THROWS_AS(make_batches({1, -2}, 1, r, true, true), UsageError);
}

TEST_CASE("make_batches with bucketing keeps lengths within a batch close", "[data][batching]") {
  Rng gen(11);
  std::vector<int64_t> lengths(5000);
  for (auto& l : lengths) l = 1 + static_cast<int64_t>(gen.below(100));
  Rng a(3), b(3);
  const auto bucketed = make_batches(lengths, 32, a, true, true);
  const auto random = make_batches(lengths, 32, b, true, false);
  const double spread_bucketed = mean_spread(bucketed, lengths);
  const double spread_random = mean_spread(random, lengths);
  INFO("mean within-batch length spread: bucketed " << spread_bucketed << ", random " << spread_random);
  CHECK(spread_bucketed < 4.0);
  CHECK(spread_random > 60.0);
  // Batches come out longest first, ready for packing.
  for (const auto& batch : bucketed)
    for (size_t i = 1; i < batch.size(); ++i)
      CHECK(lengths[static_cast<size_t>(batch[i - 1])] >= lengths[static_cast<size_t>(batch[i])]);
  // The batch order is shuffled: not globally sorted by length.
  bool ascending = true, descending = true;
  for (size_t i = 1; i < bucketed.size(); ++i) {
    const int64_t prev = lengths[static_cast<size_t>(bucketed[i - 1][0])], cur = lengths[static_cast<size_t>(bucketed[i][0])];
    ascending = ascending && prev <= cur;
    descending = descending && prev >= cur;
  }
  CHECK_FALSE(ascending);
  CHECK_FALSE(descending);
}
