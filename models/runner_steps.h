#pragma once
/// \file
/// A SequenceRunner as a memory::Recurrence: the stepwise form that gradient checkpointing and
/// truncated BPTT run (framework/memory/), for any cell and any number of layers.
///
/// \code{.unparsed}
///   state (rows, S): every layer's state tensors side by side, layer 0 first ([h | c] for an LSTM)
///   output (rows, hidden): the top layer's h
///   step: for each layer, x·W_xh (one GEMM per step and layer), then the cell's step
/// \endcode
///
/// A one-layer single-tensor cell carries h itself (no slicing, no copy). Bidirectional runners
/// have no stepwise form (the reverse direction needs the sequence's end first): refused.
#include <vector>

#include "framework/memory/recurrence.h"
#include "models/cell.h"

namespace reel {

template <class T>
class SequenceRunner;

/// A unidirectional SequenceRunner one step at a time (see the file description); get it from
/// SequenceRunner::stepwise().
template <class T>
class RunnerSteps : public memory::Recurrence<T> {
 public:
  explicit RunnerSteps(const SequenceRunner<T>& runner);  ///< throws UsageError for a bidirectional runner
  /// Throws UsageError saying why a bidirectional model has no stepwise form.
  static void require_unidirectional(bool bidirectional);
  int64_t input_dim() const override;
  int64_t state_dim() const override;
  int64_t output_dim() const override;
  void begin_scope(Tape<T>& tape, int64_t rows, std::vector<T*>& scratch) const override;
  memory::RecurrenceStep<T> step(Tape<T>& tape, const Var<T>& x_t, const Var<T>& prev,
                                 const std::vector<T*>& scratch) const override;

 private:
  const SequenceRunner<T>& runner_;
  mutable std::vector<Var<T>> next_;  ///< step()'s list of the new state's tensors (one caller at a time)
};

}  // namespace reel
