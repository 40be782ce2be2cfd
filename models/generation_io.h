#pragma once
/// \file
/// The encoder-decoder and the generator in a checkpoint, rebuilt from the file alone with their
/// symbol tables. The "config" group's kind says which model a file holds:
///
/// \code{.unparsed}
///   kind seq2seq    /config  src_vocab, tgt_vocab, bos, eos, embed_dim, hidden_dim, decoder_hidden,
///                            num_layers, bidirectional, attention (int64); cell, activation (strings)
///                   /src_vocab, /tgt_vocab   the source and target symbol tables (data/vocab_io.h's layout)
///   kind generator  /config  vocab, bos, eos, num_categories, context_dim, embed_dim, hidden_dim,
///                            num_layers (int64); cell, activation; string list "categories" (their names)
///                   /vocab   the symbol table
/// \endcode
///
/// \code
///   save_seq2seq(path, store, &adam, state, config, src, tgt);
///   LoadedSeq2Seq<float> m = load_seq2seq<float>(path);   // m.model->encode(...), m.source, m.target
///   LoadedGenerator<float> g = load_generator<float>(path);
/// \endcode
/// A file of another kind is a CheckpointError that names the kind found and the loader to use.
#include <memory>
#include <string>
#include <vector>

#include "data/vocab.h"
#include "framework/checkpoint.h"
#include "models/generator.h"
#include "models/seq2seq.h"

namespace reel {

inline constexpr const char* kSourceVocabGroup = "src_vocab";  ///< an encoder-decoder's source symbols
inline constexpr const char* kTargetVocabGroup = "tgt_vocab";  ///< an encoder-decoder's target symbols

AttributeGroup seq2seq_config_group(const Seq2SeqConfig& config);  ///< validates config
Seq2SeqConfig seq2seq_config_from_group(const AttributeGroup& g);  ///< throws CheckpointError naming the file
/// The generator's configuration and its categories' names (num_categories of them, or none).
AttributeGroup generator_config_group(const GeneratorConfig& config, const std::vector<std::string>& categories);
/// Reads a generator's configuration; its category names go to *categories when given.
GeneratorConfig generator_config_from_group(const AttributeGroup& g, std::vector<std::string>* categories = nullptr);
/// The file's model kind ("classifier", "tagger", "seq2seq", "generator"); CheckpointError without /config.
std::string model_kind_of(const CheckpointMeta& meta);
/// One line, e.g. "seq2seq: 30 -> embedding 64 -> lstm encoder, bidirectional, hidden 128 -> attention -> lstm decoder 256 -> 70".
std::string describe_seq2seq(const Seq2SeqConfig& config);
/// One line, e.g. "generator: 4 categories -> context 32 -> gru, hidden 128 -> 60 symbols".
std::string describe_generator(const GeneratorConfig& config);
/// Any model's one-line description from its /config group (every kind reel builds).
std::string describe_any_model(const CheckpointSummary& summary);

/// An encoder-decoder rebuilt from its checkpoint.
template <class T>
struct LoadedSeq2Seq {
  Seq2SeqConfig config;  ///< from the file
  std::unique_ptr<ParameterStore<T>> store;  ///< the parameters (the model refers to them)
  std::unique_ptr<EncoderDecoder<T>> model;  ///< the model
  Vocab source;  ///< the source symbols
  Vocab target;  ///< the target symbols
  TrainingState state;  ///< the file's progress
};
/// A generator rebuilt from its checkpoint.
template <class T>
struct LoadedGenerator {
  GeneratorConfig config;  ///< from the file
  std::unique_ptr<ParameterStore<T>> store;  ///< the parameters
  std::unique_ptr<Generator<T>> model;  ///< the model
  Vocab symbols;  ///< the symbol table
  std::vector<std::string> categories;  ///< the categories' names, by id
  TrainingState state;  ///< the file's progress
};

/// The groups an encoder-decoder's checkpoint holds (config, src_vocab, tgt_vocab), for
/// CheckpointManager::save; UsageError if the tables' sizes are not the config's.
AttributeGroups seq2seq_groups(const Seq2SeqConfig& config, const Vocab& source, const Vocab& target);
/// The groups a generator's checkpoint holds (config with the category names, vocab).
AttributeGroups generator_groups(const GeneratorConfig& config, const Vocab& symbols, const std::vector<std::string>& categories);
/// Saves an encoder-decoder with both symbol tables (their sizes must be the config's).
template <class T>
void save_seq2seq(const std::string& path, const ParameterStore<T>& store, ConstOptimizerPtr<T> opt, const TrainingState& state,
                  const Seq2SeqConfig& config, const Vocab& source, const Vocab& target);
/// Reads, rebuilds and loads strictly; CheckpointError naming the file and what is wrong.
template <class T>
LoadedSeq2Seq<T> load_seq2seq(const std::string& path);
/// Saves a generator with its symbol table and category names.
template <class T>
void save_generator(const std::string& path, const ParameterStore<T>& store, ConstOptimizerPtr<T> opt, const TrainingState& state,
                    const GeneratorConfig& config, const Vocab& symbols, const std::vector<std::string>& categories);
/// Reads, rebuilds and loads strictly; CheckpointError naming the file and what is wrong.
template <class T>
LoadedGenerator<T> load_generator(const std::string& path);

}  // namespace reel
