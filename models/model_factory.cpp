#include "models/model_factory.h"

#include <type_traits>

#include "data/vocab_io.h"
#include "models/model_io.h"

namespace reel {

template <class T>
SequenceModel<T>& LoadedModel<T>::model() const {
  if (classifier) return *classifier;
  if (tagger) return *tagger;
  throw UsageError("LoadedModel::model: no model was built");
}

template <class T>
void build_model(const SequenceModelConfig& config, ParameterStore<T>& store, Rng& rng, LoadedModel<T>& out) {
  out.config = config;
  out.classifier.reset();
  out.tagger.reset();
  if (config.kind == "classifier") out.classifier = std::make_unique<SequenceClassifier<T>>(store, config, rng);
  else if (config.kind == "tagger") out.tagger = std::make_unique<SequenceTagger<T>>(store, config, rng);
  else throw UsageError("build_model: unknown kind '" + config.kind + "' (expected 'classifier' or 'tagger')");
}

template <class T>
LoadedModel<T> load_model(const std::string& path) {
  constexpr const char* want = std::is_same_v<T, float> ? "float32" : "float64";
  const CheckpointMeta meta = read_checkpoint_meta(path);
  if (meta.dtype != want)
    throw CheckpointError(path + ": holds " + meta.dtype + " values; load it as LoadedModel<" +
                          (meta.dtype == "float32" ? "float" : "double") + "> (reel does not convert precision)");
  LoadedModel<T> m;
  m.format_version = meta.format_version;
  const SequenceModelConfig config = model_config_of(meta);
  m.vocab = vocab_of(meta);
  if (m.vocab && config.vocab_size > 0 && m.vocab->size() != config.vocab_size)
    throw CheckpointError(path + ": the vocabulary holds " + std::to_string(m.vocab->size()) + " words, the model's embedding " +
                          std::to_string(config.vocab_size) + " rows");
  m.store = std::make_unique<ParameterStore<T>>();
  Rng rng(0);  // the initial values are overwritten by the checkpoint's
  build_model(config, *m.store, rng, m);
  load_checkpoint(path, *m.store, nullptr, &m.state, true);
  return m;
}

template struct LoadedModel<float>;
template struct LoadedModel<double>;
template void build_model<float>(const SequenceModelConfig&, ParameterStore<float>&, Rng&, LoadedModel<float>&);
template void build_model<double>(const SequenceModelConfig&, ParameterStore<double>&, Rng&, LoadedModel<double>&);
template LoadedModel<float> load_model<float>(const std::string&);
template LoadedModel<double> load_model<double>(const std::string&);

}  // namespace reel
