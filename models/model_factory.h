#pragma once
/// \file
/// Any sequence model rebuilt from its checkpoint alone: classifier or tagger, any registered cell,
/// any number of layers, one or two directions, dense features or token ids through an embedding,
/// with its parameters, vocabulary and training progress.
///
/// \code
///   LoadedModel<float> m = load_model<float>("run/tagger.best.h5");
///   if (m.tagger) m.tagger->forward(tape, batch);
/// \endcode
///
/// The file's dtype must be T's (float32 -> float, float64 -> double): reel never converts precision.
#include <memory>
#include <optional>
#include <string>

#include "data/vocab.h"
#include "framework/checkpoint.h"
#include "models/sequence_models.h"

namespace reel {

/// A model rebuilt from a checkpoint, with everything it needs (load_model).
template <class T>
struct LoadedModel {
  SequenceModelConfig config;  ///< the model's configuration, from the file
  std::unique_ptr<ParameterStore<T>> store;  ///< the model's parameters (the model refers to them)
  std::unique_ptr<SequenceClassifier<T>> classifier;  ///< set when config.kind == "classifier"
  std::unique_ptr<SequenceTagger<T>> tagger;          ///< set when config.kind == "tagger"
  std::optional<Vocab> vocab;                         ///< when the file holds one
  TrainingState state;  ///< the file's training progress
  int64_t format_version = 0;                         ///< the file's

  SequenceModel<T>& model() const;  ///< the classifier or the tagger
};

/// Builds the model config describes, its parameters in `store` (initialised from rng); the
/// classifier or the tagger is set in out.
template <class T>
void build_model(const SequenceModelConfig& config, ParameterStore<T>& store, Rng& rng, LoadedModel<T>& out);

/// Reads the file's configuration, builds that model and loads its parameters strictly, its
/// vocabulary and its progress. Throws CheckpointError naming the file and what is wrong.
template <class T>
LoadedModel<T> load_model(const std::string& path);

}  // namespace reel
