#pragma once
/// \file
/// How the models lay a SequenceBatch (data/sequence_batch.h) out on the tape: packed (PyTorch's
/// PackedSequence: sorted by length, each step computes only the sequences still running; the
/// batch's packed() layout) or padded (every step computes every row; padding is masked out of the
/// loss). Both give the same losses and gradients.
#include <cstdint>
#include <string>
#include <vector>

#include "data/sequence_batch.h"
#include "framework/tape.h"
#include "models/embedding.h"

namespace reel {

/// How a model lays a batch out on the tape (see the file description).
enum class BatchMode { Packed, Padded };
BatchMode parse_batch_mode(const std::string& name);  ///< "packed" | "padded"

/// The batch's inputs on the tape, in the layout the mode asks for.
template <class T>
struct LaidOutInput {
  Var<T> x;                     ///< packed: (N, in) time-major real tokens; padded: (B, T, in)
  PackInfo pack;                ///< packed mode only (a copy of the batch's packed().info)
  std::vector<int64_t> rows;    ///< for each row of x (packed) / each (b, t) (padded): index b*T + t
};

/// Lays out the batch; token ids go through `embed` (required when features == 0).
template <class T>
LaidOutInput<T> lay_out(Tape<T>& tape, const SequenceBatch<T>& batch, BatchMode mode, const Embedding<T>* embed);

/// UsageError "who: what id 99 at position 3 outside [0, vocab)" for a token id out of range.
void check_token_ids(const char* who, const std::vector<int64_t>& ids, int64_t vocab, const char* what);
/// A batch of token ids (not features) that validates, each id in [0, vocab); an empty sequence is
/// a UsageError that says so ("an empty source cannot be encoded"). what names the batch's role.
template <class T>
void check_token_batch(const char* who, const SequenceBatch<T>& batch, int64_t vocab, const char* what);

/// Index of the largest value in each row of a (rows, C) value.
template <class T>
std::vector<int64_t> argmax_rows(const Var<T>& logits);

}  // namespace reel
