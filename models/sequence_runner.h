#pragma once
/// \file
/// The sequence runner: any registered cell unrolled over a batch of sequences, with layers and
/// directions — what nn.RNN / nn.LSTM / nn.GRU(..., batch_first=True) compute, in reel's layout.
///
/// \code{.unparsed}
///   RunnerConfig cfg;   // C++17: fields by name, then the struct
///   cfg.cell = "lstm", cfg.input_dim = 100, cfg.hidden_dim = 128, cfg.num_layers = 2, cfg.bidirectional = true;
///   SequenceRunner<float> rnn(store, cfg, rng);
///   auto out = rnn.forward(tape, RunnerInput<float>::padded(X, lengths));
///   out.output            (batch, time, 2·128), zero at padding
///   out.final_states[k]   layer k/2, direction k%2: {h, c}, each (batch, 128), each sequence's own last step
/// \endcode
///
/// Input layouts:
///  * padded (batch, time, features) with each sequence's length (empty: all full). The forward
///    direction runs every row for every step; each sequence's final state is taken at its own last
///    step. The reverse direction reads each sequence reversed within its length, so it starts at
///    its last real token and padding never reaches a real position. Outputs at padding are 0
///    (as pad_packed_sequence gives them).
///  * packed (N, features): PyTorch's PackedSequence data with its batch_sizes; steps compute only
///    the sequences still running. With sorted_indices (sorted row i is batch row sorted_indices[i])
///    the initial and final states are in the batch's order, as PyTorch's are; without, in sorted order.
///
/// Parameters: with one layer and one direction the cell's names sit under `prefix` ("rnn.W_xh",
/// ...); otherwise under prefix.l<k> and prefix.l<k>_reverse ("rnn.l1_reverse.W_hh"), PyTorch's
/// weight_hh_l1_reverse. Layers are created in order, forward direction before reverse.
#include <memory>
#include <string>
#include <vector>

#include "models/cell.h"
#include "models/runner_steps.h"

namespace reel {

/// What a SequenceRunner is built from.
struct RunnerConfig {
  std::string cell = "rnn";  ///< a registered cell type (models/cell_registry.h)
  int64_t input_dim = 0;  ///< features per step
  int64_t hidden_dim = 0;  ///< each direction's hidden size
  int64_t num_layers = 1;  ///< stacked layers (layer k > 0 reads layer k-1's output)
  bool bidirectional = false;  ///< a reverse direction in every layer
  std::string activation = "tanh";  ///< for the vanilla cell

  int directions() const { return bidirectional ? 2 : 1; }  ///< D: 1 or 2
  /// D·hidden_dim: the width of every layer's output
  int64_t output_dim() const { return directions() * hidden_dim; }
  void validate() const;  ///< throws UsageError naming the bad field
};

/// A batch for SequenceRunner::forward, padded or packed; make it with padded() or packed_rows().
template <class T>
struct RunnerInput {
  Var<T> x;                             ///< padded (batch, time, features); packed (N, features)
  bool packed = false;  ///< x holds packed rows (batch_sizes set)
  std::vector<int64_t> lengths;         ///< padded: per sequence, in [1, time]; empty: all full
  std::vector<int64_t> batch_sizes;     ///< packed
  std::vector<int64_t> sorted_indices;  ///< packed, optional

  /// A padded batch x (batch, time, features) with each sequence's length (empty: all full).
  static RunnerInput padded(const Var<T>& x, std::vector<int64_t> lengths = {}) {
    RunnerInput in;
    in.x = x;
    in.lengths = std::move(lengths);
    return in;
  }
  /// Packed rows x (N, features) with their batch_sizes and, optionally, sorted_indices.
  static RunnerInput packed_rows(const Var<T>& x, std::vector<int64_t> batch_sizes,
                                 std::vector<int64_t> sorted_indices = {}) {
    RunnerInput in;
    in.x = x;
    in.packed = true;
    in.batch_sizes = std::move(batch_sizes);
    in.sorted_indices = std::move(sorted_indices);
    return in;
  }
};

/// What SequenceRunner::forward returns.
template <class T>
struct RunnerOutput {
  Var<T> output;  ///< padded (batch, time, D·hidden); packed (N, D·hidden); empty unless asked for
  std::vector<CellState<T>> final_states;  ///< [layer·D + direction]
  int directions = 1;  ///< D
  /// The top layer's final h, directions side by side: (batch, D·hidden) (a classifier's input).
  Var<T> final_hidden() const;
};

/// Every part of every state with its rows picked (gather_rows; a row may repeat): a decoder's
/// beams reordered, or the sequences still running kept.
template <class T>
std::vector<CellState<T>> select_states(const std::vector<CellState<T>>& states, const std::vector<int64_t>& rows);

/// A registered cell unrolled over layers and directions (see the file description).
template <class T>
class SequenceRunner {
 public:
  /// Builds every layer's and direction's cell (parameters in store under prefix, drawn from rng).
  /// Throws UsageError on an invalid config or an unknown cell.
  SequenceRunner(ParameterStore<T>& store, const RunnerConfig& config, Rng& rng, const std::string& prefix = "rnn");
  ~SequenceRunner();

  const RunnerConfig& config() const { return config_; }  ///< the configuration
  /// The cell of layer and direction (1: reverse); UsageError if there is none
  const Cell<T>& cell(int64_t layer, int direction = 0) const;
  int state_size() const;  ///< tensors per cell state (1, or 2 for an LSTM)

  /// init: empty (zeros), or one CellState per layer·D + direction, each tensor (batch, hidden).
  /// outputs = false skips assembling the top layer's per-step outputs (a classifier needs only
  /// the final states).
  RunnerOutput<T> forward(Tape<T>& tape, const RunnerInput<T>& in, const std::vector<CellState<T>>& init = {},
                          bool outputs = true) const;

  /// The stepwise form for memory strategies (framework/memory/): throws UsageError for a
  /// bidirectional runner. Lives as long as the runner.
  const RunnerSteps<T>& stepwise() const;

  /// The parameter prefix of a layer's direction: prefix, or `prefix.l<k>` with `_reverse` for direction 1
  static std::string layer_prefix(const std::string& prefix, const RunnerConfig& c, int64_t layer, int direction);

 private:
  RunnerOutput<T> forward_padded(Tape<T>& tape, const RunnerInput<T>& in, const std::vector<CellState<T>>& init,
                                 bool outputs) const;
  RunnerOutput<T> forward_packed(Tape<T>& tape, const RunnerInput<T>& in, const std::vector<CellState<T>>& init,
                                 bool outputs) const;
  CellState<T> initial(Tape<T>& tape, const std::vector<CellState<T>>& init, size_t k, int64_t batch,
                       const std::vector<int64_t>& order) const;

  RunnerConfig config_;
  std::vector<std::unique_ptr<Cell<T>>> cells_;  ///< [layer·D + direction]
  std::unique_ptr<RunnerSteps<T>> steps_;        ///< unidirectional runners
};

}  // namespace reel
