// The encoder-decoder's and the generator's behaviour: decoding (greedy, beam search), sampling,
// per-sequence END, nothing recorded while decoding, teacher forcing, bad input, checkpoints.
// Their numbers against PyTorch: tests/test_seq2seq_pytorch.cpp.
#include <catch2/catch.hpp>

#include <filesystem>
#include <set>
#include <unistd.h>
#include <string>

#include "data/dataset.h"
#include "framework/ops.h"
#include "framework/optim/optimizer.h"
#include "models/decoding.h"
#include "models/generation_io.h"

using namespace reel;

namespace {

Seq2SeqConfig small_config(const std::string& cell, bool attention, bool bidirectional) {
  Seq2SeqConfig c;
  c.src_vocab = 9;
  c.tgt_vocab = 8;
  c.embed_dim = 5;
  c.hidden_dim = 6;
  c.cell = cell;
  c.attention = attention;
  c.bidirectional = bidirectional;
  return c;
}

SequenceBatch<double> sources() { return collate_ids<double>({{2, 3, 4, 5}, {6, 7}, {8, 2, 3}}); }
SequenceBatch<double> targets() { return collate_ids<double>({{4, 5, 6}, {7}, {4, 4, 6, 7, 5}}); }

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("reel_seq2seq_" + std::to_string(::getpid()) + "_" + name)).string();
}

}  // namespace

TEST_CASE("beam search of width 1 chooses what greedy chooses, token for token", "[seq2seq][decoding]") {
  for (const char* cell : {"rnn", "lstm", "gru"})
    for (bool attention : {false, true}) {
      ParameterStore<double> store;
      Rng rng(11);
      EncoderDecoder<double> m(store, small_config(cell, attention, true), rng);
      Tape<double> tape;
      const auto g = greedy_decode(m, tape, sources(), 12);
      const auto b = beam_search(m, tape, sources(), BeamOptions{1, 12, 1.0});
      REQUIRE(g.size() == 3);
      for (size_t i = 0; i < g.size(); ++i) {
        INFO(cell << " attention " << attention << " source " << i);
        REQUIRE(b[i].size() == 1);
        CHECK(b[i][0].tokens == g[i].tokens);
        CHECK(b[i][0].ended == g[i].ended);
        CHECK(b[i][0].log_prob == Approx(g[i].log_prob).epsilon(1e-12));
      }
    }
}

TEST_CASE("beam search returns hypotheses best first, with scores that are their log-probabilities", "[seq2seq][decoding]") {
  ParameterStore<double> store;
  Rng rng(5);
  EncoderDecoder<double> m(store, small_config("lstm", true, false), rng);
  Tape<double> tape;
  const auto beams = beam_search(m, tape, sources(), BeamOptions{4, 10, 0.7});
  REQUIRE(beams.size() == 3);
  for (const auto& hyps : beams) {
    REQUIRE(hyps.size() == 4);
    for (size_t k = 1; k < hyps.size(); ++k) CHECK(hyps[k - 1].score >= hyps[k].score);
    for (const Hypothesis& h : hyps) {
      CHECK(h.score == Approx(length_normalized(h.log_prob, static_cast<int64_t>(h.tokens.size()), h.ended, 0.7)));
      CHECK(h.log_prob < 0);
    }
  }
  // Each hypothesis's log_prob is what teacher forcing gives its tokens: rescore source 0's best.
  const Hypothesis& best = beams[0][0];
  if (best.ended && !best.tokens.empty()) {
    SequenceBatch<double> src = collate_ids<double>({{2, 3, 4, 5}});
    SequenceBatch<double> tgt = collate_ids<double>({best.tokens});
    Tape<double> t2;
    const double mean = m.loss(t2, PairBatch<double>{src, tgt}).data()[0];
    CHECK(-mean * static_cast<double>(best.tokens.size() + 1) == Approx(best.log_prob).epsilon(1e-9));
  }
}

TEST_CASE("a wider beam never finds a worse best hypothesis than greedy on this model", "[seq2seq][decoding]") {
  ParameterStore<double> store;
  Rng rng(8);
  EncoderDecoder<double> m(store, small_config("gru", true, true), rng);
  Tape<double> tape;
  const auto g = greedy_decode(m, tape, sources(), 10, 0.0);
  const auto b = beam_search(m, tape, sources(), BeamOptions{6, 10, 0.0});
  for (size_t i = 0; i < g.size(); ++i)
    if (g[i].ended) CHECK(b[i][0].score >= g[i].score - 1e-12);
}

TEST_CASE("decoding and generation record nothing on the tape", "[seq2seq][decoding]") {
  ParameterStore<double> store;
  Rng rng(2);
  EncoderDecoder<double> m(store, small_config("lstm", true, true), rng);
  Tape<double> tape;
  greedy_decode(m, tape, sources(), 8);
  beam_search(m, tape, sources(), BeamOptions{3, 8, 1.0});
  CHECK(tape.num_records() == 0);
  GeneratorConfig gc;
  gc.vocab = 10;
  gc.num_categories = 3;
  gc.context_dim = 4;
  gc.embed_dim = 4;
  gc.hidden_dim = 5;
  ParameterStore<double> gs;
  Generator<double> gen(gs, gc, rng);
  Tape<double> t2;
  NoGradGuard<double> ng(t2);  // the context's embedding lookup would record otherwise
  const Var<double> ctx = gen.category_context(t2, {0, 1, 2});
  Rng sampler(3);
  gen.generate(t2, ctx, GenerateOptions{}, sampler);
  CHECK(t2.num_records() == 0);
}

TEST_CASE("greedy decoding stops each sequence at its own END and reports unended ones", "[seq2seq][decoding]") {
  ParameterStore<double> store;
  Rng rng(1);
  Seq2SeqConfig c = small_config("gru", false, false);
  EncoderDecoder<double> m(store, c, rng);
  // Make END likely from source 0 only: bias the head toward eos, then check lengths differ.
  Tape<double> tape;
  const auto g = greedy_decode(m, tape, sources(), 3);
  for (const Hypothesis& h : g) {
    CHECK(h.tokens.size() <= 3);
    if (!h.ended) CHECK(h.tokens.size() == 3);
    for (int64_t v : h.tokens) CHECK(v != c.eos);
  }
}

namespace {
GeneratorConfig gen_config(const std::string& cell) {
  GeneratorConfig gc;
  gc.vocab = 12;
  gc.num_categories = 2;
  gc.context_dim = 4;
  gc.embed_dim = 4;
  gc.hidden_dim = 6;
  gc.cell = cell;
  return gc;
}
}  // namespace

TEST_CASE("a sampled sequence is reproducible from its seed, and different seeds differ", "[generator][sampling]") {
  ParameterStore<float> store;
  Rng init(4);
  Generator<float> gen(store, gen_config("lstm"), init);
  auto sample = [&](uint64_t seed, double temperature, int64_t top_k) {
    Tape<float> tape;
    NoGradGuard<float> ng(tape);
    Rng rng(seed);
    return gen.generate(tape, gen.category_context(tape, {0, 1, 0, 1, 0, 1}), GenerateOptions{20, {temperature, top_k}}, rng).tokens;
  };
  CHECK(sample(7, 1.0, 0) == sample(7, 1.0, 0));
  CHECK(sample(7, 0.5, 3) == sample(7, 0.5, 3));
  CHECK(sample(7, 1.0, 0) != sample(8, 1.0, 0));
}

TEST_CASE("generation stops each sequence at its own END, lengths reported, max_len respected", "[generator][sampling]") {
  ParameterStore<double> store;
  Rng init(9);
  GeneratorConfig gc = gen_config("gru");
  Generator<double> gen(store, gc, init);
  // Bias the head toward </s> so that some sequences end early and others later.
  store.at("head.b").value[static_cast<size_t>(gc.eos)] = 1.5;
  Tape<double> tape;
  NoGradGuard<double> ng(tape);
  Rng rng(1);
  std::vector<int64_t> cats(64);
  for (size_t i = 0; i < cats.size(); ++i) cats[i] = static_cast<int64_t>(i % 2);
  const Generated g = gen.generate(tape, gen.category_context(tape, cats), GenerateOptions{6, {}}, rng);
  REQUIRE(g.tokens.size() == 64);
  std::set<int64_t> lengths;
  for (size_t i = 0; i < g.tokens.size(); ++i) {
    CHECK(g.lengths[i] == static_cast<int64_t>(g.tokens[i].size()));
    CHECK(g.lengths[i] <= 6);
    if (!g.ended[i]) CHECK(g.lengths[i] == 6);
    for (int64_t v : g.tokens[i]) CHECK(v != gc.eos);
    lengths.insert(g.lengths[i]);
  }
  CHECK(lengths.size() >= 3);  // sequences ended at different steps
}

TEST_CASE("top_k 1 generation is greedy: every seed gives the same sequences", "[generator][sampling]") {
  ParameterStore<double> store;
  Rng init(3);
  Generator<double> gen(store, gen_config("rnn"), init);
  auto run = [&](uint64_t seed) {
    Tape<double> tape;
    NoGradGuard<double> ng(tape);
    Rng rng(seed);
    return gen.generate(tape, gen.category_context(tape, {0, 1}), GenerateOptions{10, {1.0, 1}}, rng).tokens;
  };
  CHECK(run(1) == run(2));
}

TEST_CASE("teacher forcing 1 step by step equals the one-unroll path; a lower ratio is seeded", "[seq2seq][training]") {
  for (bool attention : {false, true}) {
    ParameterStore<double> store;
    Rng rng(6);
    EncoderDecoder<double> m(store, small_config("lstm", attention, true), rng);
    Tape<double> tape;
    const EncodedSource<double> enc = m.encode(tape, sources());
    Rng coin(1);
    const std::vector<double> bulk = m.teacher_forced_logits(tape, enc, targets()).to_vector();
    const std::vector<double> steps = m.stepwise_logits(tape, enc, targets(), 1.0, coin).to_vector();
    REQUIRE(bulk.size() == steps.size());
    // At real positions (each target's tokens and its </s>); past them the unroll's outputs are padding.
    const ShiftedTargets st = shift_targets(targets(), 2, 3);
    const size_t V = 8;
    for (size_t b = 0; b < 3; ++b)
      for (int64_t t = 0; t < st.lengths[b]; ++t)
        for (size_t v = 0; v < V; ++v) {
          const size_t i = (b * static_cast<size_t>(st.steps) + static_cast<size_t>(t)) * V + v;
          REQUIRE(bulk[i] == Approx(steps[i]).epsilon(1e-12).margin(1e-14));
        }
    auto loss_at = [&](uint64_t seed) {
      Tape<double> t;
      Rng r(seed);
      return m.loss(t, PairBatch<double>{sources(), targets()}, 0.5, &r).data()[0];
    };
    CHECK(loss_at(3) == loss_at(3));
  }
}

TEST_CASE("the encoder-decoder trains: a copy task's loss falls", "[seq2seq][training]") {
  ParameterStore<float> store;
  Rng rng(2);
  Seq2SeqConfig c = small_config("gru", true, true);
  c.hidden_dim = 16;
  c.embed_dim = 8;
  c.src_vocab = c.tgt_vocab = 8;
  EncoderDecoder<float> m(store, c, rng);
  AdamOptions ao;
  ao.lr = 0.02;
  Adam<float> adam(store.all(), ao);
  const auto src = collate_ids<float>({{4, 5, 6}, {7, 4}, {5, 5, 6, 7}, {6}});
  const PairBatch<float> batch{src, src};
  double first = 0, last = 0;
  for (int step = 0; step < 150; ++step) {
    Tape<float> tape;
    store.zero_grad();
    Var<float> loss = m.loss(tape, batch);
    tape.backward(loss);
    adam.step();
    (step == 0 ? first : last) = loss.data()[0];
  }
  CHECK(last < 0.2 * first);
  Tape<float> tape;
  const auto g = greedy_decode(m, tape, src, 8);
  CHECK(g[2].tokens == std::vector<int64_t>{5, 5, 6, 7});
}

TEST_CASE("bad input to the encoder-decoder and the generator is a clear error", "[seq2seq][errors]") {
  ParameterStore<double> store;
  Rng rng(1);
  EncoderDecoder<double> m(store, small_config("rnn", false, false), rng);
  Tape<double> tape;
  SequenceBatch<double> bad = sources();
  bad.ids[0] = 99;
  CHECK_THROWS_WITH(m.encode(tape, bad), Catch::Contains("source id 99") && Catch::Contains("[0, 9)"));
  SequenceBatch<double> empty = sources();
  empty.lengths[1] = 0;
  CHECK_THROWS_WITH(m.encode(tape, empty), Catch::Contains("length 0") && Catch::Contains("empty source"));
  CHECK_THROWS_WITH(greedy_decode(m, tape, sources(), 0), Catch::Contains("max_len = 0"));
  CHECK_THROWS_WITH(beam_search(m, tape, sources(), BeamOptions{0, 5, 1.0}), Catch::Contains("width = 0"));
  CHECK_THROWS_WITH(m.loss(tape, PairBatch<double>{sources(), targets()}, 0.5), Catch::Contains("pass the Rng"));
  CHECK_THROWS_WITH(m.loss(tape, PairBatch<double>{sources(), targets()}, 1.5), Catch::Contains("teacher_forcing"));
  Seq2SeqConfig c = small_config("rnn", false, false);
  c.eos = 8;
  CHECK_THROWS_WITH(EncoderDecoder<double>(store, c, rng), Catch::Contains("eos = 8"));
  GeneratorConfig gc = gen_config("gru");
  ParameterStore<double> gs;
  Generator<double> gen(gs, gc, rng);
  CHECK_THROWS_WITH(gen.category_context(tape, {2}), Catch::Contains("category 2"));
  Rng r(1);
  CHECK_THROWS_WITH(gen.generate(tape, gen.category_context(tape, {0}), GenerateOptions{0, {}}, r), Catch::Contains("max_len = 0"));
}

TEST_CASE("checkpoints rebuild the encoder-decoder and the generator with their symbol tables", "[seq2seq][checkpoint]") {
  ParameterStore<float> store;
  Rng rng(3);
  Seq2SeqConfig c = small_config("lstm", true, true);
  EncoderDecoder<float> m(store, c, rng);
  const Vocab src = Vocab::from_words({"<pad>", "<unk>", "a", "b", "c", "d", "e", "f", "g"});
  const Vocab tgt = Vocab::from_words({"<pad>", "<unk>", "<s>", "</s>", "AA", "B", "K", "T"});
  const std::string path = temp_path("s2s.h5");
  save_seq2seq(path, store, nullptr, TrainingState{}, c, src, tgt);
  LoadedSeq2Seq<float> l = load_seq2seq<float>(path);
  CHECK(l.config.attention);
  CHECK(l.config.bidirectional);
  CHECK(l.target.word(4) == "AA");
  CHECK(l.source.id("g") == 8);
  Tape<float> t1, t2;
  const SequenceBatch<float> s = collate_ids<float>({{2, 3, 4}, {5, 6}});
  const auto a = beam_search(m, t1, s, BeamOptions{3, 6, 1.0});
  const auto b = beam_search(*l.model, t2, s, BeamOptions{3, 6, 1.0});
  for (size_t i = 0; i < a.size(); ++i) CHECK(a[i][0].tokens == b[i][0].tokens);
  // Another kind is refused with a message naming both kinds and the loader to use.
  CHECK_THROWS_WITH(load_generator<float>(path), Catch::Contains("a seq2seq, not of a generator") && Catch::Contains("load_seq2seq"));
  CHECK_THROWS_WITH(load_seq2seq<double>(path), Catch::Contains("float32"));

  ParameterStore<float> gs;
  GeneratorConfig gc = gen_config("gru");
  gc.vocab = 6;
  Generator<float> gen(gs, gc, rng);
  const std::string gpath = temp_path("gen.h5");
  save_generator(gpath, gs, nullptr, TrainingState{}, gc, Vocab::from_words({"<pad>", "<unk>", "<s>", "</s>", "x", "y"}),
                 {"en", "fr"});
  LoadedGenerator<float> lg = load_generator<float>(gpath);
  CHECK(lg.categories == std::vector<std::string>{"en", "fr"});
  CHECK(lg.symbols.word(5) == "y");
  CHECK_THROWS_WITH(load_seq2seq<float>(gpath), Catch::Contains("a generator, not of a seq2seq"));
  CHECK_THROWS_WITH(save_generator(gpath, gs, nullptr, TrainingState{}, gc, Vocab::from_words({"<pad>", "<unk>", "<s>", "</s>", "x", "y"}),
                                   {"en"}),
                    Catch::Contains("1 category names for num_categories 2"));
  std::filesystem::remove(path);
  std::filesystem::remove(gpath);
}

TEST_CASE("a packed encoder gives the padded encoder's loss and gradients", "[seq2seq][training]") {
  for (const char* cell : {"rnn", "lstm", "gru"})
    for (bool attention : {false, true}) {
      INFO(cell << " attention " << attention);
      ParameterStore<double> store;
      Rng rng(12);
      Seq2SeqConfig c = small_config(cell, attention, true);
      c.num_layers = 2;
      EncoderDecoder<double> m(store, c, rng);
      auto run = [&](BatchMode mode, std::vector<std::vector<double>>& grads) {
        Tape<double> tape;
        store.zero_grad();
        Var<double> loss = m.loss(tape, PairBatch<double>{sources(), targets()}, 1.0, nullptr, mode);
        tape.backward(loss);
        grads.clear();
        for (Parameter<double>* p : store.all()) grads.push_back(p->grad);
        return loss.data()[0];
      };
      std::vector<std::vector<double>> gp, gq;
      const double padded = run(BatchMode::Padded, gp), packed = run(BatchMode::Packed, gq);
      CHECK(packed == Approx(padded).epsilon(1e-13));
      for (size_t i = 0; i < gp.size(); ++i)
        for (size_t j = 0; j < gp[i].size(); ++j) REQUIRE(gq[i][j] == Approx(gp[i][j]).epsilon(1e-11).margin(1e-13));
    }
}
