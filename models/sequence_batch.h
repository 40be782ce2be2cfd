#pragma once
// Model-side batches of variable-length sequences and how the models lay them out on the tape.
//
// A SequenceBatch is padded: (batch, max_len, features) dense values or (batch, max_len) token
// ids, plus each sequence's true length. Models run it either packed (PyTorch's PackedSequence:
// sorted by length, each step computes only the sequences still running) or padded (every step
// computes every row; padding is masked out of the loss). Both give the same losses and gradients.
#include <cstdint>
#include <string>
#include <vector>

#include "data/batching.h"
#include "framework/tape.h"
#include "models/embedding.h"

namespace reel {

enum class BatchMode { Packed, Padded };
BatchMode parse_batch_mode(const std::string& name);  // "packed" | "padded"

template <class T>
struct SequenceBatch {
  int64_t batch = 0, max_len = 0;
  int64_t features = 0;            // > 0: dense input in values; 0: token ids in ids
  std::vector<T> values;           // (batch, max_len, features)
  std::vector<int64_t> ids;        // (batch, max_len)
  std::vector<int64_t> lengths;    // (batch), each in [1, max_len]

  void validate(const char* who) const;  // throws UsageError/ShapeError naming who and the mismatch
};

// The batch's inputs on the tape, in the layout the mode asks for.
template <class T>
struct LaidOutInput {
  Var<T> x;                     // packed: (N, in) time-major real tokens; padded: (B, T, in)
  PackInfo pack;                // packed mode only
  std::vector<int64_t> rows;    // for each row of x (packed) / each (b, t) (padded): index b*T + t
};

// Lays out the batch; token ids go through `embed` (required when features == 0).
template <class T>
LaidOutInput<T> lay_out(Tape<T>& tape, const SequenceBatch<T>& batch, BatchMode mode, const Embedding<T>* embed);

// Index of the largest value in each row of a (rows, C) value.
template <class T>
std::vector<int64_t> argmax_rows(const Var<T>& logits);

}  // namespace reel
