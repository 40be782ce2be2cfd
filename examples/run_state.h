#pragma once
// Checkpointing for the training examples: what a run carries from epoch to epoch, saved at every
// epoch end (--checkpoint FILE, best dev model beside it as FILE.best.h5) and restored by
// --resume FILE, so that `--epochs 2 --resume after_one_epoch.h5` ends bitwise where a straight
// `--epochs 2` run ends.
#include <memory>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "data/vocab.h"
#include "framework/checkpoint.h"
#include "framework/optim/optimizer.h"
#include "models/model_io.h"

namespace reel::examples {

struct RunState {
  int first_epoch = 1;
  double best_dev = -1;
  std::vector<std::vector<float>> best_params;  // the best dev model's values, store order
  std::unique_ptr<CheckpointManager> checkpoints;

  void remember_best(const ParameterStore<float>& store) {
    best_params.clear();
    for (auto* p : store.all()) best_params.push_back(p->value);
  }
  void restore_best(ParameterStore<float>& store) const {
    auto params = store.all();
    for (size_t i = 0; i < best_params.size() && i < params.size(); ++i) params[i]->value = best_params[i];
  }

  // --checkpoint and --resume. A resumed run restores parameters, Adam's state (its lr and step
  // count too), both RNG streams, the best dev score and the best model (from the .best.h5 file
  // beside the resumed one). The file's model configuration and optimizer hyperparameters must be
  // this run's: a difference throws, naming each one.
  void start(const std::string& checkpoint, const std::string& resume, SequenceModel<float>& model,
             Optimizer<float>& opt, Rng& init_rng, Rng& shuffle_rng) {
    if (!checkpoint.empty()) checkpoints = std::make_unique<CheckpointManager>(checkpoint);
    if (resume.empty()) return;
    TrainingState st;
    load_checkpoint(resume, model, &opt, &st);  // checks the file's model configuration first (models/model_io.h)
    ParameterStore<float>& store = model.parameters();
    first_epoch = static_cast<int>(st.epoch) + 1;
    best_dev = st.best_dev;
    if (st.rng.count("init") == 0 || st.rng.count("shuffle") == 0)
      throw CheckpointError(resume + ": no 'init'/'shuffle' RNG streams in /progress: not a training-example checkpoint");
    init_rng.set_state(st.rng.at("init"));
    shuffle_rng.set_state(st.rng.at("shuffle"));
    std::string best = resume.size() > 3 && resume.substr(resume.size() - 3) == ".h5" ? resume.substr(0, resume.size() - 3) : resume;
    best += ".best.h5";
    ParameterStore<float> best_store;
    for (auto* p : store.all()) best_store.add(p->name, p->shape);
    load_checkpoint(best, best_store, static_cast<Optimizer<float>*>(nullptr), nullptr);
    remember_best(best_store);
    spdlog::info("resumed {} after epoch {} (step {}, best dev {:.4f})", resume, st.epoch, opt.steps(), best_dev);
  }

  // At an epoch's end: the latest state, and the best model if this epoch is the best so far.
  void end_epoch(int epoch, const ParameterStore<float>& store, const Optimizer<float>& opt, const Rng& init_rng,
                 const Rng& shuffle_rng, double dev, const std::map<std::string, double>& metrics,
                 const SequenceModelConfig& config, const Vocab* vocab) {
    const bool is_best = dev > best_dev;
    if (is_best) {
      best_dev = dev;
      remember_best(store);
    }
    if (!checkpoints) return;
    TrainingState st;
    st.epoch = epoch;
    st.global_step = opt.steps();
    st.best_dev = best_dev;
    st.rng["init"] = init_rng.state();
    st.rng["shuffle"] = shuffle_rng.state();
    st.metrics = metrics;
    // The optimizer's own hyperparameters (opt.hyperparameters()) are saved with its state.
    checkpoints->save(store, &opt, st, model_groups(config, vocab), is_best);
    spdlog::info("checkpoint: {}{}", checkpoints->path(), is_best ? " (best dev so far: " + checkpoints->best_path() + ")" : "");
  }
};

}  // namespace reel::examples
