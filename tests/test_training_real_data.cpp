// A short training run on the shipped UD English EWT data lowers the loss (and beats chance).
#include <catch2/catch.hpp>

#include "data/conllu.h"
#include "data/vocab.h"
#include "framework/optim/optimizer.h"
#include "framework/trainer.h"
#include "models/sequence_models.h"

using namespace reel;

TEST_CASE("training the tagger on shipped UD EWT sentences lowers the loss", "[train][real-data]") {
  auto sents = read_conllu(std::string(REEL_SOURCE_DIR) + "/data/ud-english-ewt/en_ewt-ud-dev.conllu.gz");
  sents.resize(256);
  std::vector<std::vector<std::string>> words;
  for (auto& s : sents) words.push_back(s.words);
  const Vocab vocab = Vocab::from_sentences(words, 1, true);

  SequenceModelConfig cfg;
  cfg.kind = "tagger";
  cfg.vocab_size = vocab.size();
  cfg.embed_dim = 32;
  cfg.hidden_dim = 32;
  cfg.num_classes = static_cast<int64_t>(upos_tags().size());
  ParameterStore<float> store;
  Rng rng(3);
  SequenceTagger<float> model(store, cfg, rng);
  AdamOptions ao;
  ao.lr = 1e-2;
  Adam<float> adam(store.all(), ao);
  TrainerOptions to;
  to.clip_norm = 1.0;
  Trainer<float> trainer(store, adam, to);

  auto batch_of = [&](size_t first, std::vector<int64_t>* tags) {
    SequenceBatch<float> b;
    b.batch = 32;
    for (size_t k = first; k < first + 32; ++k) b.max_len = std::max<int64_t>(b.max_len, static_cast<int64_t>(sents[k].words.size()));
    b.ids.assign(static_cast<size_t>(b.batch * b.max_len), Vocab::kPad);
    tags->assign(b.ids.size(), 0);
    for (size_t k = 0; k < 32; ++k) {
      const auto& s = sents[first + k];
      b.lengths.push_back(static_cast<int64_t>(s.words.size()));
      for (size_t t = 0; t < s.words.size(); ++t) {
        b.ids[k * static_cast<size_t>(b.max_len) + t] = vocab.id(s.words[t]);
        (*tags)[k * static_cast<size_t>(b.max_len) + t] = upos_index(s.upos[t]);
      }
    }
    return b;
  };
  Tape<float> tape;
  double first_epoch = 0, last_epoch = 0;
  for (int epoch = 0; epoch < 6; ++epoch) {
    double sum = 0;
    for (size_t first = 0; first + 32 <= sents.size(); first += 32) {
      std::vector<int64_t> tags;
      SequenceBatch<float> b = batch_of(first, &tags);
      sum += trainer.step(tape, [&](Tape<float>& t) { return model.loss(t, model.forward(t, b), tags); }).loss;
    }
    if (epoch == 0) first_epoch = sum / 8;
    last_epoch = sum / 8;
  }
  INFO("mean loss epoch 1 " << first_epoch << ", epoch 6 " << last_epoch);
  CHECK(first_epoch > 2.0);               // ~ln(17) = 2.83 at the start
  CHECK(last_epoch < 0.6 * first_epoch);  // it learned
}
