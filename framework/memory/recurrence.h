#pragma once
/// \file
/// What a memory strategy needs of a recurrent model: its steps one at a time, its carried state
/// as one tensor. Models implement it (SequenceRunner::stepwise() in models/ does, for any cell and
/// any number of layers), so checkpointing and truncated BPTT reach every model through this
/// seam and framework/ knows none of them.
///
/// \code{.unparsed}
///   step t:  (state_t, output_t) = step(x_t, state_{t-1})
/// \endcode
///
/// state: (rows, state_dim), every layer's state tensors side by side; output: (rows, output_dim),
/// what the losses read (the top layer's h). Step t advances rows [0, x_t rows) of prev, which may
/// have more rows (a packed batch shrinks as sequences end).
#include <cstdint>
#include <vector>

#include "framework/tape.h"

namespace reel::memory {

/// What one step of a Recurrence returns.
template <class T>
struct RecurrenceStep {
  /// The new state (rows, state_dim) and the step's output (rows, output_dim); output may be the
  /// same node as state (a one-layer vanilla RNN).
  ///@{
  Var<T> state, output;
  ///@}
};

/// A recurrent model one step at a time, its state one tensor (see the file description).
template <class T>
class Recurrence {
 public:
  virtual ~Recurrence() = default;
  virtual int64_t input_dim() const = 0;  ///< features of x_t
  virtual int64_t state_dim() const = 0;  ///< columns of the carried state
  virtual int64_t output_dim() const = 0;  ///< columns of the output the losses read
  /// Scratch shared by the steps of one recorded or advanced scope (tape storage, alive until the
  /// tape is cleared): called once per scope with the scope's largest row count.
  virtual void begin_scope(Tape<T>& tape, int64_t rows, std::vector<T*>& scratch) const {
    (void)tape;
    (void)rows;
    (void)scratch;
  }
  /// Records one step from x_t (rows, input_dim) and the previous state prev (at least rows rows):
  /// returns the new state and output, rows rows each. scratch: what begin_scope set up.
  virtual RecurrenceStep<T> step(Tape<T>& tape, const Var<T>& x_t, const Var<T>& prev,
                                 const std::vector<T*>& scratch) const = 0;
};

}  // namespace reel::memory
