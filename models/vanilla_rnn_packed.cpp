// VanillaRNN over packed sequences: only real tokens are computed.
#include <string>

#include "framework/ops.h"
#include "models/vanilla_rnn.h"

namespace reel {

template <class T>
typename VanillaRNN<T>::Sequence VanillaRNN<T>::forward_packed(Tape<T>& tape, const Var<T>& X_packed,
                                                               const std::vector<int64_t>& batch_sizes,
                                                               const Var<T>& h0) const {
  const Shape& sx = X_packed.shape();
  int64_t total = 0;
  for (size_t t = 0; t < batch_sizes.size(); ++t) {
    if (batch_sizes[t] <= 0 || (t > 0 && batch_sizes[t] > batch_sizes[t - 1]))
      throw UsageError("VanillaRNN::forward_packed: batch_sizes must be positive and non-increasing (step " +
                       std::to_string(t) + " has " + std::to_string(batch_sizes[t]) + ")");
    total += batch_sizes[t];
  }
  if (batch_sizes.empty() || sx.rank != 2 || sx[0] != total || sx[1] != config_.input_dim)
    throw ShapeError("VanillaRNN::forward_packed: X_packed must be (" + std::to_string(total) + ", " +
                     std::to_string(config_.input_dim) + ") for these batch_sizes, got " + sx.str());
  const int64_t B = batch_sizes[0], Tn = static_cast<int64_t>(batch_sizes.size());
  Var<T> h = h0;
  if (!h.valid()) {
    h = tape.zeros(Shape{B, config_.hidden_dim});
    tape.set_role(h, "h0");
  } else if (h.shape() != Shape{B, config_.hidden_dim}) {
    throw_shape("VanillaRNN::forward_packed", "h0 must be (batch_sizes[0], hidden)", Shape{B, config_.hidden_dim},
                h.shape());
  }
  tape.set_role(X_packed, "x");
  Var<T> xp = matmul(X_packed, tape.param(W_xh));  // every real token's input projection: one GEMM
  Sequence out;
  out.hidden_states.reserve(static_cast<size_t>(Tn));
  std::vector<Var<T>> finals;  // sequences ending at step t are rows [bs[t+1], bs[t]) of h_t
  finals.reserve(static_cast<size_t>(Tn));
  int64_t offset = 0;
  T* z_buffer = tape.fusion() ? tape.scratch(static_cast<size_t>(B * config_.hidden_dim)) : nullptr;
  for (int64_t t = 0; t < Tn; ++t) {
    StepScope<T> scope(tape, static_cast<int32_t>(t));
    const int64_t bt = batch_sizes[static_cast<size_t>(t)];
    Var<T> h_prev = h.shape()[0] == bt ? h : slice_rows(h, 0, bt);
    Step s = recur(tape, slice_rows(xp, offset, offset + bt), h_prev, false, z_buffer);
    offset += bt;
    h = s.h;
    out.hidden_states.push_back(s.h);
    if (W_hy) out.outputs.push_back(s.y);
    const int64_t next = t + 1 < Tn ? batch_sizes[static_cast<size_t>(t + 1)] : 0;
    if (next < bt) finals.push_back(next == 0 ? s.h : slice_rows(s.h, next, bt));
  }
  // Longest sequences end last: reverse so rows come out in sorted order.
  std::vector<Var<T>> ordered(finals.rbegin(), finals.rend());
  out.final_hidden = ordered.size() == 1 ? ordered[0] : concat_rows(ordered);
  return out;
}

template VanillaRNN<float>::Sequence VanillaRNN<float>::forward_packed(
    Tape<float>&, const Var<float>&, const std::vector<int64_t>&, const Var<float>&) const;
template VanillaRNN<double>::Sequence VanillaRNN<double>::forward_packed(
    Tape<double>&, const Var<double>&, const std::vector<int64_t>&, const Var<double>&) const;

}  // namespace reel
