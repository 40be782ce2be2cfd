// The key property of variable-length batching: packed, padded (masked) and one-sequence-at-a-time
// runs of SequenceClassifier and SequenceTagger give the same logits, losses and parameter
// gradients (double precision), for dense features and for token ids through an embedding.
//
// Loss scaling: the classifier's loss is a mean over the B sequences, so B·batch_loss equals the
// sum of the per-sequence losses (and likewise its gradients); the tagger's loss is a mean over the
// N real tokens, so N·batch_loss = Σ_i len_i·loss_i.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "framework/ops.h"
#include "framework/rng.h"
#include "models/sequence_models.h"

using namespace reel;
using D = double;

namespace {

constexpr int64_t kFeatures = 3, kVocab = 11, kEmbed = 4, kHidden = 5, kClasses = 3;

// Sequences before batching: per sequence, len·F values or len ids, one label, len tags.
struct Corpus {
  std::vector<int64_t> lengths;
  std::vector<std::vector<D>> values;
  std::vector<std::vector<int64_t>> ids;
  std::vector<int64_t> labels;
  std::vector<std::vector<int64_t>> tags;
};

Corpus make_corpus(const std::vector<int64_t>& lengths, uint64_t seed) {
  Rng rng(seed);
  Corpus c;
  c.lengths = lengths;
  for (int64_t len : lengths) {
    std::vector<D> v(static_cast<size_t>(len * kFeatures));
    for (D& x : v) x = 2 * rng.uniform() - 1;
    std::vector<int64_t> id(static_cast<size_t>(len)), tg(static_cast<size_t>(len));
    for (auto& x : id) x = 1 + static_cast<int64_t>(rng.below(kVocab - 1));  // 0 is left for padding
    for (auto& x : tg) x = static_cast<int64_t>(rng.below(kClasses));
    c.values.push_back(std::move(v));
    c.ids.push_back(std::move(id));
    c.labels.push_back(static_cast<int64_t>(rng.below(kClasses)));
    c.tags.push_back(std::move(tg));
  }
  return c;
}

// The sequences `which` of the corpus as one padded batch with max_len = the longest of them.
// Padding: pad_value for dense values, pad_id for token ids, pad_tag for tags.
struct Batch {
  SequenceBatch<D> sb;
  std::vector<int64_t> labels;
  std::vector<int64_t> tags;  // (batch, max_len)
};

Batch make_batch(const Corpus& c, const std::vector<size_t>& which, bool dense, D pad_value = 0,
                 int64_t pad_id = 0, int64_t pad_tag = 0) {
  Batch b;
  int64_t T = 0;
  for (size_t i : which) T = std::max(T, c.lengths[i]);
  const int64_t B = static_cast<int64_t>(which.size());
  b.sb.batch = B;
  b.sb.max_len = T;
  b.sb.features = dense ? kFeatures : 0;
  if (dense)
    b.sb.values.assign(static_cast<size_t>(B * T * kFeatures), pad_value);
  else
    b.sb.ids.assign(static_cast<size_t>(B * T), pad_id);
  b.tags.assign(static_cast<size_t>(B * T), pad_tag);
  for (int64_t r = 0; r < B; ++r) {
    const size_t i = which[static_cast<size_t>(r)];
    const int64_t len = c.lengths[i];
    b.sb.lengths.push_back(len);
    b.labels.push_back(c.labels[i]);
    for (int64_t t = 0; t < len; ++t) {
      const size_t pos = static_cast<size_t>(r * T + t);
      if (dense)
        std::copy_n(c.values[i].data() + t * kFeatures, kFeatures, b.sb.values.data() + pos * kFeatures);
      else
        b.sb.ids[pos] = c.ids[i][static_cast<size_t>(t)];
      b.tags[pos] = c.tags[i][static_cast<size_t>(t)];
    }
  }
  return b;
}

std::vector<size_t> iota_n(size_t n) {
  std::vector<size_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

SequenceModelConfig config(bool dense, const char* kind) {
  SequenceModelConfig cfg;
  cfg.kind = kind;
  if (dense) {
    cfg.input_dim = kFeatures;
  } else {
    cfg.vocab_size = kVocab;
    cfg.embed_dim = kEmbed;
  }
  cfg.hidden_dim = kHidden;
  cfg.num_classes = kClasses;
  return cfg;
}

using Grads = std::vector<std::vector<D>>;
Grads grads_of(ParameterStore<D>& store) {
  Grads g;
  for (auto* p : store.all()) g.push_back(p->grad);
  return g;
}

bool close(D got, D want, D tol) { return std::abs(got - want) <= tol * (1 + std::abs(want)); }

void check_vec(const std::vector<D>& got, const std::vector<D>& want, const std::string& what, D tol = 1e-10) {
  REQUIRE(got.size() == want.size());
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (!close(got[i], want[i], tol) && bad++ < 5) {
      INFO(what << " element " << i << ": got " << got[i] << ", want " << want[i]);
      CHECK(false);
    }
  CHECK(bad == 0);
}

void check_grads(ParameterStore<D>& store, const Grads& got, const Grads& want, const std::string& what) {
  REQUIRE(got.size() == want.size());
  const auto params = store.all();
  for (size_t k = 0; k < got.size(); ++k) {
    // A gradient of all zeros would make the comparison vacuous.
    D mx = 0;
    for (D v : want[k]) mx = std::max(mx, std::abs(v));
    INFO(what << ", parameter " << params[k]->name);
    CHECK(mx > 1e-6);
    check_vec(got[k], want[k], what + " grad of " + params[k]->name);
  }
}

const char* mode_name(BatchMode m) { return m == BatchMode::Packed ? "packed" : "padded"; }

// ---------------------------------------------------------------- classifier

struct ClsRun {
  std::vector<D> logits;  // (B, C)
  D loss_sum = 0;         // B·batch loss
  Grads grads;            // gradients of loss_sum
};

ClsRun classify_batch(SequenceClassifier<D>& model, ParameterStore<D>& store, Tape<D>& tape, const Batch& b,
                      BatchMode mode) {
  store.zero_grad();
  tape.clear();
  Var<D> logits = model.logits(tape, b.sb, mode);
  REQUIRE(logits.shape() == Shape{b.sb.batch, kClasses});
  Var<D> loss = model.loss(tape, logits, b.labels);
  tape.backward(scale(loss, static_cast<D>(b.sb.batch)));
  return {logits.to_vector(), loss.item() * static_cast<D>(b.sb.batch), grads_of(store)};
}

ClsRun classify_one_by_one(SequenceClassifier<D>& model, ParameterStore<D>& store, Tape<D>& tape,
                           const Corpus& c, bool dense, BatchMode mode) {
  ClsRun r;
  store.zero_grad();  // gradients accumulate over the per-sequence backward calls
  for (size_t i = 0; i < c.lengths.size(); ++i) {
    Batch one = make_batch(c, {i}, dense);
    REQUIRE(one.sb.max_len == c.lengths[i]);
    tape.clear();
    Var<D> logits = model.logits(tape, one.sb, mode);
    Var<D> loss = model.loss(tape, logits, one.labels);
    tape.backward(loss);
    for (D v : logits.to_vector()) r.logits.push_back(v);
    r.loss_sum += loss.item();
  }
  r.grads = grads_of(store);
  return r;
}

// ---------------------------------------------------------------- tagger

struct TagRun {
  std::map<int64_t, std::vector<D>> logits;  // corpus sequence i, step t -> logits row, key i*1000+t
  D loss_sum = 0;                            // N·batch loss
  Grads grads;
};

void collect_tagger_rows(const TaggerOutput<D>& out, const Batch& b, const std::vector<size_t>& which,
                         std::map<int64_t, std::vector<D>>& dst) {
  const int64_t T = b.sb.max_len;
  const std::vector<D> v = out.logits.to_vector();
  REQUIRE(out.logits.shape().rank == 2);
  REQUIRE(out.logits.shape()[1] == kClasses);
  REQUIRE(static_cast<int64_t>(out.rows.size()) == out.logits.shape()[0]);
  REQUIRE(out.mask.size() == out.rows.size());
  for (size_t k = 0; k < out.rows.size(); ++k) {
    if (out.mask[k] == 0) continue;
    const int64_t r = out.rows[k] / T, t = out.rows[k] % T;
    REQUIRE(t < b.sb.lengths[static_cast<size_t>(r)]);
    const int64_t key = static_cast<int64_t>(which[static_cast<size_t>(r)]) * 1000 + t;
    REQUIRE(dst.count(key) == 0);
    dst[key] = std::vector<D>(v.begin() + static_cast<long>(k * kClasses), v.begin() + static_cast<long>((k + 1) * kClasses));
  }
}

TagRun tag_batch(SequenceTagger<D>& model, ParameterStore<D>& store, Tape<D>& tape, const Batch& b,
                 const std::vector<size_t>& which, BatchMode mode) {
  store.zero_grad();
  tape.clear();
  TaggerOutput<D> out = model.forward(tape, b.sb, mode);
  Var<D> loss = model.loss(tape, out, b.tags);
  int64_t n = 0;
  for (int64_t len : b.sb.lengths) n += len;
  tape.backward(scale(loss, static_cast<D>(n)));
  TagRun r;
  collect_tagger_rows(out, b, which, r.logits);
  REQUIRE(static_cast<int64_t>(r.logits.size()) == n);  // every real token has its row
  r.loss_sum = loss.item() * static_cast<D>(n);
  r.grads = grads_of(store);
  return r;
}

TagRun tag_one_by_one(SequenceTagger<D>& model, ParameterStore<D>& store, Tape<D>& tape, const Corpus& c,
                      bool dense, BatchMode mode) {
  TagRun r;
  store.zero_grad();
  for (size_t i = 0; i < c.lengths.size(); ++i) {
    Batch one = make_batch(c, {i}, dense);
    tape.clear();
    TaggerOutput<D> out = model.forward(tape, one.sb, mode);
    Var<D> loss = model.loss(tape, out, one.tags);
    const D len = static_cast<D>(c.lengths[i]);
    tape.backward(scale(loss, len));
    collect_tagger_rows(out, one, {i}, r.logits);
    r.loss_sum += loss.item() * len;
  }
  r.grads = grads_of(store);
  return r;
}

void check_tag_logits(const TagRun& got, const TagRun& want, const std::string& what) {
  REQUIRE(got.logits.size() == want.logits.size());
  for (const auto& [key, row] : want.logits) {
    auto it = got.logits.find(key);
    REQUIRE(it != got.logits.end());
    check_vec(it->second, row, what + " logits of sequence " + std::to_string(key / 1000) + " step " +
                                   std::to_string(key % 1000));
  }
}

const std::vector<int64_t> kLengths = {5, 3, 7, 2, 7};

}  // namespace

TEST_CASE("SequenceClassifier: packed == padded == one sequence at a time", "[train][packing]") {
  const bool dense = GENERATE(true, false);
  INFO((dense ? "dense features" : "token ids"));
  const Corpus c = make_corpus(kLengths, 11);
  ParameterStore<D> store;
  Rng rng(3);
  SequenceClassifier<D> model(store, config(dense, "classifier"), rng);
  Tape<D> tape;
  const Batch b = make_batch(c, iota_n(c.lengths.size()), dense, /*pad_value=*/0.25, /*pad_id=*/0);

  const ClsRun packed = classify_batch(model, store, tape, b, BatchMode::Packed);
  const ClsRun padded = classify_batch(model, store, tape, b, BatchMode::Padded);
  // Something to compare: the logits differ between sequences and the loss is not trivial.
  CHECK(packed.loss_sum > 0);
  CHECK(packed.logits[0] != packed.logits[kClasses]);

  check_vec(padded.logits, packed.logits, "padded vs packed");
  CHECK(close(padded.loss_sum, packed.loss_sum, 1e-10));
  check_grads(store, padded.grads, packed.grads, "padded vs packed");

  for (BatchMode mode : {BatchMode::Packed, BatchMode::Padded}) {
    const std::string what = std::string("one-by-one (") + mode_name(mode) + ") vs packed batch";
    const ClsRun single = classify_one_by_one(model, store, tape, c, dense, mode);
    check_vec(single.logits, packed.logits, what);
    CHECK(close(single.loss_sum, packed.loss_sum, 1e-10));
    check_grads(store, single.grads, packed.grads, what);
  }
}

TEST_CASE("SequenceClassifier: equal lengths take the same path in both modes", "[train][packing]") {
  const bool dense = GENERATE(true, false);
  const Corpus c = make_corpus({4, 4, 4}, 5);
  ParameterStore<D> store;
  Rng rng(9);
  SequenceClassifier<D> model(store, config(dense, "classifier"), rng);
  Tape<D> tape;
  const Batch b = make_batch(c, iota_n(3), dense);
  const ClsRun packed = classify_batch(model, store, tape, b, BatchMode::Packed);
  const ClsRun padded = classify_batch(model, store, tape, b, BatchMode::Padded);
  check_vec(padded.logits, packed.logits, "padded vs packed");
  CHECK(close(padded.loss_sum, packed.loss_sum, 1e-10));
  check_grads(store, padded.grads, packed.grads, "padded vs packed");
}

TEST_CASE("SequenceClassifier padded mode reads each sequence's true last step: padding values do not matter",
          "[train][packing]") {
  const bool dense = GENERATE(true, false);
  INFO((dense ? "dense features" : "token ids"));
  const Corpus c = make_corpus(kLengths, 21);
  ParameterStore<D> store;
  Rng rng(4);
  SequenceClassifier<D> model(store, config(dense, "classifier"), rng);
  Tape<D> tape;
  const Batch b0 = make_batch(c, iota_n(5), dense, /*pad_value=*/0, /*pad_id=*/0);
  const Batch b1 = make_batch(c, iota_n(5), dense, /*pad_value=*/37.5, /*pad_id=*/7);
  REQUIRE((dense ? b0.sb.values != b1.sb.values : b0.sb.ids != b1.sb.ids));
  const ClsRun r0 = classify_batch(model, store, tape, b0, BatchMode::Padded);
  const ClsRun r1 = classify_batch(model, store, tape, b1, BatchMode::Padded);
  CHECK(r1.logits == r0.logits);  // bitwise: padded steps never reach the chosen states
  CHECK(r1.loss_sum == r0.loss_sum);
  check_grads(store, r1.grads, r0.grads, "padding 37.5/7 vs 0/0");
  // ... and they are the packed run's (which never sees padding).
  const ClsRun packed = classify_batch(model, store, tape, b1, BatchMode::Packed);
  check_vec(r1.logits, packed.logits, "padded (37.5/7) vs packed");
}

TEST_CASE("SequenceClassifier logits come back in the batch's original order", "[train][packing]") {
  const bool dense = GENERATE(true, false);
  const BatchMode mode = GENERATE(BatchMode::Packed, BatchMode::Padded);
  INFO((dense ? "dense features" : "token ids") << ", " << mode_name(mode));
  const Corpus c = make_corpus(kLengths, 31);
  ParameterStore<D> store;
  Rng rng(5);
  SequenceClassifier<D> model(store, config(dense, "classifier"), rng);
  Tape<D> tape;
  const std::vector<size_t> perm = {3, 0, 4, 1, 2};
  const ClsRun base = classify_batch(model, store, tape, make_batch(c, iota_n(5), dense), mode);
  const ClsRun permuted = classify_batch(model, store, tape, make_batch(c, perm, dense), mode);
  for (size_t i = 0; i < perm.size(); ++i) {
    const std::vector<D> got(permuted.logits.begin() + static_cast<long>(i * kClasses),
                             permuted.logits.begin() + static_cast<long>((i + 1) * kClasses));
    const std::vector<D> want(base.logits.begin() + static_cast<long>(perm[i] * kClasses),
                              base.logits.begin() + static_cast<long>((perm[i] + 1) * kClasses));
    check_vec(got, want, "row " + std::to_string(i) + " of the permuted batch", 1e-12);
  }
  // The rows really differ, so a wrong order could not pass by accident.
  for (size_t i = 1; i < 5; ++i)
    CHECK(std::abs(base.logits[i * kClasses] - base.logits[0]) +
              std::abs(base.logits[i * kClasses + 1] - base.logits[1]) > 1e-6);
  CHECK(close(permuted.loss_sum, base.loss_sum, 1e-12));
  check_grads(store, permuted.grads, base.grads, "permuted vs original");
}

TEST_CASE("SequenceTagger: packed == padded == one sequence at a time", "[train][packing]") {
  const bool dense = GENERATE(true, false);
  INFO((dense ? "dense features" : "token ids"));
  const Corpus c = make_corpus(kLengths, 41);
  ParameterStore<D> store;
  Rng rng(6);
  SequenceTagger<D> model(store, config(dense, "tagger"), rng);
  Tape<D> tape;
  const auto all = iota_n(c.lengths.size());
  const Batch b = make_batch(c, all, dense, /*pad_value=*/-0.75, /*pad_id=*/0, /*pad_tag=*/1);

  const TagRun packed = tag_batch(model, store, tape, b, all, BatchMode::Packed);
  const TagRun padded = tag_batch(model, store, tape, b, all, BatchMode::Padded);
  CHECK(packed.logits.size() == 24u);  // 5+3+7+2+7 real tokens
  CHECK(packed.loss_sum > 0);

  check_tag_logits(padded, packed, "padded vs packed");
  CHECK(close(padded.loss_sum, packed.loss_sum, 1e-10));
  check_grads(store, padded.grads, packed.grads, "padded vs packed");

  for (BatchMode mode : {BatchMode::Packed, BatchMode::Padded}) {
    const std::string what = std::string("one-by-one (") + mode_name(mode) + ") vs packed batch";
    const TagRun single = tag_one_by_one(model, store, tape, c, dense, mode);
    check_tag_logits(single, packed, what);
    CHECK(close(single.loss_sum, packed.loss_sum, 1e-10));
    check_grads(store, single.grads, packed.grads, what);
  }
}

TEST_CASE("SequenceTagger padded mode: padding values and padding tags do not matter", "[train][packing]") {
  const bool dense = GENERATE(true, false);
  INFO((dense ? "dense features" : "token ids"));
  const Corpus c = make_corpus(kLengths, 51);
  ParameterStore<D> store;
  Rng rng(8);
  SequenceTagger<D> model(store, config(dense, "tagger"), rng);
  Tape<D> tape;
  const auto all = iota_n(5);
  const TagRun r0 = tag_batch(model, store, tape, make_batch(c, all, dense, 0, 0, 0), all, BatchMode::Padded);
  const TagRun r1 = tag_batch(model, store, tape, make_batch(c, all, dense, 12.0, 9, 2), all, BatchMode::Padded);
  check_tag_logits(r1, r0, "padding changed");
  CHECK(r1.loss_sum == r0.loss_sum);
  check_grads(store, r1.grads, r0.grads, "padding changed");
}
