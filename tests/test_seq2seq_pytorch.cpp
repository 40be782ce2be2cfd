// reel's EncoderDecoder (models/seq2seq.h) and Generator (models/generator.h) against the same
// models built in PyTorch, from the fixtures tools/make_seq2seq_fixtures.py wrote to
// tests/fixtures/seq2seq/ (committed: no torch needed).
//
// For every fixture (T = double for *_f64, float for *_f32) the model is built from the meta
// (Seq2SeqConfig / GeneratorConfig field names), every parameter's value is copied from the fixture
// by name (each reel parameter must be in the fixture and each fixture parameter in reel), and
//   seq2seq    EncoderDecoder::loss(tape, PairBatch, teacher_forcing = 1)
//   generator  Generator::loss(tape, category_context(categories), sequences)
// is built and backpropagated. The loss, every parameter's gradient and the teacher-forced logits
// must agree with PyTorch, with test_rnn_pytorch.cpp's error measure:
//     err_i = |got_i - ref_i| / max(|ref_i|, floor),   floor = max(1e-6, 1e-2 * max_j |ref_j|)
// Required: max err <= 1e-9 in float64, <= 1e-4 in float32. REEL_FIXTURE_REPORT=1 prints them.
//
// Also: EncoderDecoder::stepwise_logits with teacher forcing ratio 1 (every coin gold) gives the
// bulk (one unroll) path's loss to 1e-12 in double, and the fixture's gradients.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "fixture_compare.h"
#include "fixture_io.h"
#include "framework/ops.h"
#include "models/generator.h"
#include "models/seq2seq.h"
#include "models/shifted_targets.h"

using namespace reel;
using reel::testing::check_close;
using reel::testing::Worst;

namespace {

const std::string kSeq2SeqFixtureDir = std::string(REEL_SOURCE_DIR) + "/tests/fixtures/seq2seq";
const char* const kCases[] = {"s2s_lstm_l2_bi_attn", "s2s_gru_l1", "s2s_rnn_l1_bi_attn_dec5", "gen_gru_l1_cat",
                              "gen_lstm_l2_cat"};
// The fixture's tensors that are not a parameter or a gradient.
const std::set<std::string> kDataTensors = {"src_ids", "src_lengths", "tgt_ids", "tgt_lengths", "categories",
                                            "ids",     "lengths",     "logits",  "loss"};


// Copies every parameter's value from the fixture by name, after checking that reel's parameters
// and the fixture's are the same set (a fixture tensor is a data tensor, a parameter or grad_<parameter>).
template <class T>
void load_parameters(ParameterStore<T>& store, const fixture::Fixture& fx) {
  REQUIRE(static_cast<int64_t>(store.count()) == fx.meta_int("num_parameters"));
  for (Parameter<T>* p : store.all()) {
    INFO("reel parameter " << p->name << " in fixture " << fx.path);
    REQUIRE(fx.has(p->name));
    REQUIRE(fx.has("grad_" + p->name));
    const std::vector<int64_t> dims(p->shape.dims.begin(), p->shape.dims.begin() + p->shape.rank);
    p->value = fx.at(p->name, dims).template as<T>();
    fx.at("grad_" + p->name, dims);
    std::fill(p->grad.begin(), p->grad.end(), T(0));
  }
  for (const std::string& n : fx.order) {
    if (kDataTensors.count(n)) continue;
    const std::string param = n.rfind("grad_", 0) == 0 ? n.substr(5) : n;
    INFO("fixture tensor " << n << " in " << fx.path);
    CHECK(store.find(param) != nullptr);
  }
}

// A batch of token ids (batch, max_len) with its lengths, as collate() would give it.
template <class T>
SequenceBatch<T> id_batch(const fixture::Fixture& fx, const std::string& ids, const std::string& lengths) {
  const fixture::Tensor& t = fx.at(ids);
  REQUIRE(t.dims.size() == 2);
  SequenceBatch<T> b;
  b.batch = t.dims[0];
  b.max_len = t.dims[1];
  b.ids = t.ints;
  b.lengths = fx.at(lengths, {b.batch}).ints;
  b.mask.assign(static_cast<size_t>(b.batch * b.max_len), T(0));
  for (int64_t i = 0; i < b.batch; ++i)
    for (int64_t s = 0; s < b.lengths[static_cast<size_t>(i)]; ++s) b.mask[static_cast<size_t>(i * b.max_len + s)] = T(1);
  return b;
}

Seq2SeqConfig seq2seq_config(const fixture::Fixture& fx) {
  Seq2SeqConfig c;
  c.src_vocab = fx.meta_int("src_vocab");
  c.tgt_vocab = fx.meta_int("tgt_vocab");
  c.bos = fx.meta_int("bos");
  c.eos = fx.meta_int("eos");
  c.embed_dim = fx.meta_int("embed_dim");
  c.hidden_dim = fx.meta_int("hidden_dim");
  c.decoder_hidden = fx.meta_int("decoder_hidden");
  c.cell = fx.meta_str("cell");
  c.activation = fx.meta_str("activation");
  c.num_layers = fx.meta_int("num_layers");
  c.bidirectional = fx.meta_int("bidirectional") != 0;
  c.attention = fx.meta_int("attention") != 0;
  return c;
}

GeneratorConfig generator_config(const fixture::Fixture& fx) {
  GeneratorConfig c;
  c.vocab = fx.meta_int("vocab");
  c.bos = fx.meta_int("bos");
  c.eos = fx.meta_int("eos");
  c.num_categories = fx.meta_int("num_categories");
  c.context_dim = fx.meta_int("context_dim");
  c.embed_dim = fx.meta_int("embed_dim");
  c.hidden_dim = fx.meta_int("hidden_dim");
  c.cell = fx.meta_str("cell");
  c.activation = fx.meta_str("activation");
  c.num_layers = fx.meta_int("num_layers");
  return c;
}

template <class T>
void check_gradients(ParameterStore<T>& store, const fixture::Fixture& fx, double tol, Worst& w) {
  for (Parameter<T>* p : store.all())
    check_close("grad_" + p->name, fx.at("grad_" + p->name).values, p->grad.data(), p->grad.size(), tol, w);
}

template <class T>
Worst run_seq2seq(const fixture::Fixture& fx, double tol) {
  const Seq2SeqConfig cfg = seq2seq_config(fx);
  ParameterStore<T> store;
  Rng rng(11);
  EncoderDecoder<T> model(store, cfg, rng);
  load_parameters(store, fx);
  PairBatch<T> batch;
  batch.source = id_batch<T>(fx, "src_ids", "src_lengths");
  batch.target = id_batch<T>(fx, "tgt_ids", "tgt_lengths");
  const int64_t B = batch.source.batch, steps = batch.target.max_len + 1, V = cfg.tgt_vocab;
  REQUIRE(B == fx.meta_int("batch"));

  Worst w;
  Tape<T> tape;
  const Var<T> loss = model.loss(tape, batch, 1.0);
  const T l = loss.item();
  tape.backward(loss);
  check_close("loss", fx.at("loss", {}).values, &l, 1, tol, w);
  check_gradients(store, fx, tol, w);

  Tape<T> tape2;
  const EncodedSource<T> enc = model.encode(tape2, batch.source);
  const Var<T> logits = model.teacher_forced_logits(tape2, enc, batch.target);
  REQUIRE(logits.shape() == Shape{B, steps, V});
  check_close("logits", fx.at("logits", {B, steps, V}).values, logits.data(), static_cast<size_t>(logits.size()), tol,
              w);
  return w;
}

template <class T>
Worst run_generator(const fixture::Fixture& fx, double tol) {
  const GeneratorConfig cfg = generator_config(fx);
  ParameterStore<T> store;
  Rng rng(13);
  Generator<T> model(store, cfg, rng);
  load_parameters(store, fx);
  const SequenceBatch<T> seqs = id_batch<T>(fx, "ids", "lengths");
  const int64_t B = seqs.batch, steps = seqs.max_len + 1, V = cfg.vocab;
  REQUIRE(B == fx.meta_int("batch"));
  const std::vector<int64_t> categories = fx.at("categories", {B}).ints;

  Worst w;
  Tape<T> tape;
  const Var<T> loss = model.loss(tape, model.category_context(tape, categories), seqs);
  const T l = loss.item();
  tape.backward(loss);
  check_close("loss", fx.at("loss", {}).values, &l, 1, tol, w);
  check_gradients(store, fx, tol, w);

  Tape<T> tape2;
  const Var<T> logits = model.logits(tape2, model.category_context(tape2, categories), seqs);
  REQUIRE(logits.shape() == Shape{B, steps, V});
  check_close("logits", fx.at("logits", {B, steps, V}).values, logits.data(), static_cast<size_t>(logits.size()), tol,
              w);
  return w;
}

std::string fixture_path(const std::string& name, const std::string& dtype) {
  return kSeq2SeqFixtureDir + "/" + name + "_" + dtype + ".txt";
}

template <class T>
void run_all(const std::string& dtype, double tol) {
  const std::vector<std::string> files = fixture::list_fixtures(kSeq2SeqFixtureDir, "_" + dtype + ".txt");
  for (const char* want : kCases) {
    INFO("fixture " << fixture_path(want, dtype));
    CHECK(std::find(files.begin(), files.end(), fixture_path(want, dtype)) != files.end());
  }
  REQUIRE(files.size() >= std::size(kCases));
  for (const std::string& f : files) {
    const fixture::Fixture fx = fixture::read_fixture(f);
    REQUIRE(fx.meta_str("dtype") == dtype);
    SECTION(fx.meta_str("case")) {
      INFO("fixture " << f);
      const std::string kind = fx.meta_str("kind");
      REQUIRE((kind == "seq2seq" || kind == "generator"));
      const Worst w = kind == "seq2seq" ? run_seq2seq<T>(fx, tol) : run_generator<T>(fx, tol);
      CHECK(w.compared > 0);
      if (std::getenv("REEL_FIXTURE_REPORT"))
        std::cout << "[seq2seq " << dtype << "] " << fx.meta_str("case") << ": " << w.compared << " values, max err "
                  << w.err << " at " << w.where << "\n";
    }
  }
}

}  // namespace

TEST_CASE("EncoderDecoder and Generator match PyTorch in float64 (err <= 1e-9)", "[seq2seq][pytorch]") {
  run_all<double>("f64", 1e-9);
}

TEST_CASE("EncoderDecoder and Generator match PyTorch in float32 (err <= 1e-4)", "[seq2seq][pytorch]") {
  run_all<float>("f32", 1e-4);
}

TEST_CASE("EncoderDecoder: stepwise_logits with teacher forcing 1 gives the one-unroll loss (1e-12, double)",
          "[seq2seq]") {
  for (const char* name : {"s2s_lstm_l2_bi_attn", "s2s_gru_l1", "s2s_rnn_l1_bi_attn_dec5"}) {
    SECTION(name) {
      const fixture::Fixture fx = fixture::read_fixture(fixture_path(name, "f64"));
      const Seq2SeqConfig cfg = seq2seq_config(fx);
      ParameterStore<double> store;
      Rng init(17);
      EncoderDecoder<double> model(store, cfg, init);
      load_parameters(store, fx);
      PairBatch<double> batch;
      batch.source = id_batch<double>(fx, "src_ids", "src_lengths");
      batch.target = id_batch<double>(fx, "tgt_ids", "tgt_lengths");

      Tape<double> bulk_tape;
      const double bulk = model.loss(bulk_tape, batch, 1.0).item();

      Tape<double> tape;
      Rng coins(5);
      const EncodedSource<double> enc = model.encode(tape, batch.source);
      const Var<double> logits = model.stepwise_logits(tape, enc, batch.target, 1.0, coins);
      const ShiftedTargets s = shift_targets(batch.target, cfg.bos, cfg.eos);
      REQUIRE(logits.shape() == Shape{enc.batch, s.steps, cfg.tgt_vocab});
      const Var<double> loss =
          cross_entropy(reshape(logits, Shape{enc.batch * s.steps, cfg.tgt_vocab}), s.output, shifted_mask<double>(s));
      const double step = loss.item();
      INFO(std::setprecision(17) << "stepwise " << step << " vs one unroll " << bulk);
      CHECK(std::abs(step - bulk) <= 1e-12 * std::abs(bulk));
      // And the gradients through the step-by-step graph are the fixture's.
      tape.backward(loss);
      Worst w;
      check_gradients(store, fx, 1e-9, w);
      if (std::getenv("REEL_FIXTURE_REPORT"))
        std::cout << "[seq2seq stepwise] " << name << ": loss rel diff " << std::abs(step - bulk) / std::abs(bulk)
                  << ", grads max err " << w.err << " at " << w.where << "\n";
    }
  }
}
