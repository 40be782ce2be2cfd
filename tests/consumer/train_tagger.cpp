// A user's own tagger script, written only against the installed reel (find_package(reel)): UD EWT
// through a loader, a GRU tagger, Adam with clipping, progress, a checkpoint every 20 steps
// (resumable mid-epoch), dev accuracy. CI kills it mid-run (--kill-at), starts it again (it resumes
// from the newest good checkpoint) and compares the final parameters with an uninterrupted run's.
//   consumer_tagger DATA_DIR CHECKPOINT [--kill-at STEP]
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include <reel/data/conllu.h>
#include <reel/data/loader.h>
#include <reel/framework/checkpoint_manager.h>
#include <reel/framework/distributed/consistency.h>
#include <reel/framework/log.h>
#include <reel/framework/trainer.h>
#include <reel/models/sequence_models.h>

using namespace reel;

int main(int argc, char** argv) {
  if (argc != 3 && !(argc == 5 && std::strcmp(argv[3], "--kill-at") == 0)) {
    std::fprintf(stderr, "usage: %s DATA_DIR CHECKPOINT [--kill-at STEP]\n", argv[0]);
    return 2;
  }
  const int64_t kill_at = argc == 5 ? std::atoll(argv[4]) : -1;
  init_logging();
  const std::string dir = std::string(argv[1]) + "/en_ewt-ud-";
  auto train_s = read_conllu(dir + "train.conllu.gz");
  train_s.resize(2000);  // a quick run
  const Vocab vocab = Vocab::from_sentences(words_of(train_s), 2, /*lowercase=*/true);
  const auto train = upos_dataset<float>("train", train_s, vocab), dev = upos_dataset<float>("dev", read_conllu(dir + "dev.conllu.gz"), vocab);
  SequenceModelConfig config;
  config.kind = "tagger", config.cell = "gru", config.vocab_size = vocab.size(), config.embed_dim = 32, config.hidden_dim = 64;
  config.num_classes = static_cast<int64_t>(upos_tags().size());
  ParameterStore<float> store;
  Rng rng(1);
  SequenceTagger<float> model(store, config, rng);
  AdamOptions adam_options;
  adam_options.lr = 3e-3;
  Adam<float> adam(store.all(), adam_options);
  TrainerOptions trainer_options;
  trainer_options.clip_norm = 1.0;
  Trainer<float> trainer(store, adam, trainer_options);
  DataLoader<float> loader(train, {32, /*shuffle=*/true, /*bucket_by_length=*/true}, 7), dev_loader(dev, {256});
  CheckpointPolicy policy;
  policy.every_steps = 20, policy.keep_last = 2;
  CheckpointManager ckpt(argv[2], policy);
  TrainingState st;
  if (ckpt.resume(store, &adam, &st)) loader.restore(st);  // newest good file, if any
  Tape<float> tape;
  double dev_accuracy = 0;
  for (int64_t epoch = st.epoch + 1; epoch <= 2; ++epoch) {
    Progress progress("sent", train.size(), static_cast<int>(epoch), 2);
    for (SequenceBatch<float> b; loader.next(b);) {
      const StepResult r = trainer.step(tape, [&](Tape<float>& t) { return model.loss(t, model.forward(t, b), b.tags); });
      progress.update(loader.position() * 32, {{"loss", r.loss}});
      if (ckpt.due(r.step, false, epoch)) {
        st.global_step = r.step;
        loader.save(st);
        ckpt.save(store, &adam, st, {}, false);
      }
      if (r.step == kill_at) std::raise(SIGKILL);  // as kill -9 would, between two checkpoints
    }
    double correct = 0;
    for_each_batch_no_grad(tape, dev_loader, [&](Tape<float>& t, const SequenceBatch<float>& b) { correct += model.forward(t, b).correct(b.tags); });
    dev_accuracy = correct / static_cast<double>(dev.tokens());
    progress.finish({{"dev_accuracy", dev_accuracy}});
  }
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (const Parameter<float>* p : store.all()) hash = distributed::fnv1a(p->value.data(), p->value.size() * sizeof(float), hash);
  std::printf("{\"consumer_tagger\":\"ok\",\"steps\":%lld,\"dev_accuracy\":%.4f,\"parameters_fnv1a\":\"%016llx\"}\n",
              static_cast<long long>(adam.steps()), dev_accuracy, static_cast<unsigned long long>(hash));
  return 0;
}
