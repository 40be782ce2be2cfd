#pragma once
/// \file
/// A sequence model in a checkpoint: its configuration as the attribute group "config"
/// (framework/checkpoint.h stores it without knowing what it means), beside the parameters, the
/// optimizer state, the progress and, optionally, the vocabulary (data/vocab_io.h).
///
/// \code{.unparsed}
///   /config  strings  kind (classifier | tagger), activation (tanh | relu), cell (rnn | lstm | gru | a user's)
///            int64    input_dim, vocab_size, embed_dim, hidden_dim, num_classes, num_layers,
///                     bidirectional (0/1)
/// \endcode
///
/// format_version 1 files (reel 0.1) may lack cell, num_layers and bidirectional: they hold a
/// one-layer unidirectional vanilla RNN, and load as one. From version 2 the three are required.
///
/// \code
///   save_checkpoint(path, store, &adam, state, config, &vocab);   // the framework's, with these groups
///   load_checkpoint(path, model, &adam, &state);                  // checks /config against the model first
///   load_checkpoint(path, model);                                 // no optimizer, no progress (nullptr, nullptr)
/// \endcode
/// A model rebuilt from the file alone: models/model_factory.h.
#include <string>

#include "data/vocab.h"
#include "framework/checkpoint.h"
#include "models/sequence_models.h"

namespace reel {

/// The name of the model configuration's attribute group in a checkpoint.
inline constexpr const char* kModelConfigGroup = "config";

AttributeGroup model_config_group(const SequenceModelConfig& config);  ///< validates config
/// Reads and validates a configuration; format_version is the file's. Throws CheckpointError
/// naming the file and what is wrong.
SequenceModelConfig model_config_from_group(const AttributeGroup& g, int64_t format_version);
/// The configuration in a checkpoint's "config" group, read from its metadata, its summary or
/// the file itself. Throws CheckpointError naming the file if the group is missing or invalid.
///@{
SequenceModelConfig model_config_of(const CheckpointMeta& meta);
SequenceModelConfig model_config_of(const CheckpointSummary& summary);
SequenceModelConfig read_model_config(const std::string& path);
///@}
/// The groups a model's checkpoint holds: "config", and "vocab" when vocab is given.
AttributeGroups model_groups(const SequenceModelConfig& config, const Vocab* vocab = nullptr);
/// One line, e.g. "tagger: vocabulary 6 -> embedding 3 -> lstm, 2 layers, bidirectional, hidden 5 -> 4 classes".
std::string describe_model(const SequenceModelConfig& config);

/// Throws CheckpointError listing every field in which the file's model differs from expected.
void check_model_config(const std::string& path, const SequenceModelConfig& expected);

/// save_checkpoint with model_groups(config, vocab).
template <class T>
void save_checkpoint(const std::string& path, const ParameterStore<T>& store, ConstOptimizerPtr<T> opt,
                     const TrainingState& state, const SequenceModelConfig& config, const Vocab* vocab = nullptr);
/// check_model_config(path, model.config()), then the framework's load into model.parameters().
template <class T>
LoadReport load_checkpoint(const std::string& path, SequenceModel<T>& model, OptimizerPtr<T> opt = nullptr,
                           TrainingState* state = nullptr, bool strict = true);

}  // namespace reel
