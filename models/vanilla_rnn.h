#pragma once
/// \file
/// The vanilla (Elman) RNN of the reference design, with its output layer: a VanillaCell
/// (models/vanilla_cell.h) unrolled by the shared loop of models/unroll.h, plus y_t. Deeper,
/// bidirectional or other-cell models use SequenceRunner (models/sequence_runner.h).
///
/// \code{.unparsed}
///   z_t = x_t·W_xh + h_{t-1}·W_hh + b_h      (input contribution + memory contribution + bias)
///   h_t = tanh(z_t)  or  relu(z_t)
///   y_t = h_t·W_hy + b_y                      (optional output layer)
/// \endcode
///
/// Row-major batches: x_t is (batch, input), h_t (batch, hidden), so the weights are stored
/// (in, out): W_xh (input, hidden), W_hh (hidden, hidden), W_hy (hidden, output) — the transposes
/// of the reference's column-vector matrices and of PyTorch's weight_ih/weight_hh (whose two
/// biases sum into b_h). Initialisation follows the reference: W ~ N(0,1)·sqrt(2/(fan_in+fan_out)),
/// biases zero, drawn from an explicit Rng in the order W_xh, W_hh, W_hy.
#include <string>
#include <vector>

#include <memory>

#include "framework/parameter.h"
#include "framework/rng.h"
#include "framework/tape.h"
#include "models/unroll.h"
#include "models/vanilla_cell.h"

namespace reel {

/// The sizes and nonlinearity of a VanillaRNN.
struct RNNConfig {
  int64_t input_dim = 0;  ///< features of x_t
  int64_t hidden_dim = 0;  ///< size of h
  int64_t output_dim = 0;  ///< 0: no output layer
  std::string activation = "tanh";  ///< "tanh" or "relu"
};

/// The reference design's Elman RNN with an optional output layer (see the file description).
template <class T>
class VanillaRNN {
 public:
  /// One timestep's results.
  struct Step {
    /// h_t (batch, hidden) and y_t (batch, output); y is empty without an output layer.
    ///@{
    Var<T> h, y;
    ///@}
    /// x_t·W_xh, h_{t-1}·W_hh and z_t, each (batch, hidden); filled when intermediates are requested.
    ///@{
    Var<T> input_contribution, memory_contribution, z;
    ///@}
  };
  /// A whole sequence's results.
  struct Sequence {
    std::vector<Var<T>> hidden_states;  ///< h_1 .. h_T, each (batch, hidden)
    std::vector<Var<T>> outputs;        ///< y_1 .. y_T, each (batch, output), if an output layer exists
    Var<T> final_hidden;                ///< h_T
    std::vector<Step> intermediates;    ///< per step, if requested
  };

  /// Registers `<prefix>.W_xh`, `.W_hh`, `.b_h` (and `.W_hy`, `.b_y`) in the store, drawn from rng.
  VanillaRNN(ParameterStore<T>& store, const RNNConfig& config, Rng& rng, const std::string& prefix = "rnn");

  const RNNConfig& config() const { return config_; }  ///< the configuration
  Activation activation() const { return cell_->activation(); }  ///< the nonlinearity
  const VanillaCell<T>& cell() const { return *cell_; }  ///< the cell that runs the recurrence

  /// One timestep: x_t (batch, input), h_prev (batch, hidden).
  Step forward_step(Tape<T>& tape, const Var<T>& x_t, const Var<T>& h_prev, bool intermediates = false) const;
  /// A whole batch X (batch, time, input) from h0 (batch, hidden; zeros when empty). The input
  /// projection of all timesteps is one matrix product; each step's recurrence runs fused (rnn_cell)
  /// and is recorded op by op (matmul, add, bias_add, activation); with intermediates, unfused.
  Sequence forward_sequence(Tape<T>& tape, const Var<T>& X, const Var<T>& h0 = Var<T>(),
                            bool intermediates = false) const;

  /// Packed sequences, as PyTorch packs them: X_packed (N, input) holds the real tokens time-major
  /// (the batch_sizes[0] rows of step 0, then the batch_sizes[1] rows of step 1, ...), rows sorted
  /// by sequence length, longest first. Step t computes only its batch_sizes[t] rows.
  /// hidden_states[t] is (batch_sizes[t], hidden); final_hidden (batch_sizes[0], hidden) holds each
  /// sequence's state at its own last step, in sorted order. h0, if given, is in sorted order too.
  Sequence forward_packed(Tape<T>& tape, const Var<T>& X_packed, const std::vector<int64_t>& batch_sizes,
                          const Var<T>& h0 = Var<T>()) const;

  /// The recurrence given a precomputed input contribution a_t = x_t·W_xh (batch, hidden).
  /// Without intermediates (and with the tape's fusion on) it runs as one fused pass (rnn_cell in
  /// framework/ops.h) that records the same ops; z_buffer, if given, is its (batch, hidden) scratch,
  /// reused from step to step by the sequence forwards.
  Step recur(Tape<T>& tape, const Var<T>& a_t, const Var<T>& h_prev, bool intermediates = false,
             T* z_buffer = nullptr) const;

  ~VanillaRNN();

 private:
  RNNConfig config_;
  std::unique_ptr<VanillaCell<T>> cell_;

 public:
  Parameter<T>& W_xh;  ///< (input, hidden)
  Parameter<T>& W_hh;  ///< (hidden, hidden)
  Parameter<T>& b_h;  ///< (hidden)
  Parameter<T>* W_hy = nullptr;  ///< (hidden, output); null without an output layer
  Parameter<T>* b_y = nullptr;  ///< (output); null without an output layer

 private:
  void output_layer(Tape<T>& tape, Step& s) const;
  Sequence collect(Tape<T>& tape, const Unrolled<T>& u) const;  ///< an unroll's states, with y_t
};

}  // namespace reel
