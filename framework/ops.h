#pragma once
/// \file
/// Every op of reel. Each records one tape record (when a gradient is needed) and has its backward
/// beside its forward in framework/ops/*.cpp. Shapes: row-major; sequence batches (batch, time,
/// features). A mismatch throws ShapeError naming the op and both shapes.
#include <array>
#include <cstdint>
#include <vector>

#include "framework/rng.h"
#include "framework/tape.h"

namespace reel {

// ---- linear algebra (framework/ops/linalg.cpp)
/// y = op(a) · op(b), op(x) = x or, with trans_x, its transpose. a may be rank 3 (B,T,K): read as
/// (B*T,K), y is (B,T,N). b is rank 2.
template <class T> Var<T> matmul(const Var<T>& a, const Var<T>& b, bool trans_a = false, bool trans_b = false);
/// y = x·W + b (x (rows, n) or (T, B, n), W (n, d), b (d)), recorded as the composed
/// bias_add(matmul(x, W), b) with the same gradients; the GEMM accumulates into y prefilled with b
/// (one pass and one buffer: the product node keeps no value).
template <class T> Var<T> linear(const Var<T>& x, const Var<T>& W, const Var<T>& b);
/// Batched y[i] = op(a[i]) · op(b[i]) for a (B,M,K) and b (B,K,N) (transposed operands: (B,K,M),
/// (B,N,K)), y (B,M,N): torch.bmm. One GEMM per batch entry.
template <class T> Var<T> bmm(const Var<T>& a, const Var<T>& b, bool trans_a = false, bool trans_b = false);

// ---- elementwise (framework/ops/elementwise.cpp)
template <class T> Var<T> add(const Var<T>& a, const Var<T>& b);       ///< y = a + b
template <class T> Var<T> sub(const Var<T>& a, const Var<T>& b);       ///< y = a - b
template <class T> Var<T> mul(const Var<T>& a, const Var<T>& b);       ///< y = a ⊙ b
template <class T> Var<T> scale(const Var<T>& a, T c);                 ///< y = c·a
template <class T> Var<T> bias_add(const Var<T>& x, const Var<T>& b);  ///< y[..., j] = x[..., j] + b[j]
template <class T> Var<T> tanh(const Var<T>& x);                       ///< y = tanh(x)
template <class T> Var<T> relu(const Var<T>& x);                       ///< y = max(0, x)
template <class T> Var<T> sigmoid(const Var<T>& x);                    ///< y = 1 / (1 + e^-x)
template <class T> Var<T> exp(const Var<T>& x);                        ///< y = e^x
/// y = ln x; x ≤ 0 gives -inf or NaN as std::log does (the anomaly detector names the op)
template <class T> Var<T> log(const Var<T>& x);
template <class T> Var<T> reciprocal(const Var<T>& x);                 ///< y = 1 / x
template <class T> Var<T> div(const Var<T>& a, const Var<T>& b);       ///< y = a / b, same shapes

// ---- dropout (framework/ops/dropout.cpp)
/// Inverted dropout, as torch.nn.functional.dropout: with training, each element is zeroed with
/// probability p and the others scaled by 1/(1-p), the keep mask drawn from rng (one uniform per
/// element, in row-major order) and recorded on the tape for the backward; without training, or
/// with p = 0, y is x itself (nothing recorded, no draw). Element i is kept iff its uniform is >= p.
/// The mask is kept only when the op is recorded, as bits (n/8 bytes of tape storage).
/// UsageError unless 0 <= p < 1 (checked with or without training).
template <class T> Var<T> dropout(const Var<T>& x, double p, Rng& rng, bool training);

// ---- fused (framework/ops/fused.cpp)
/// The Elman recurrence h = act(a + h_prev·W + b), act tanh or relu, computed in one pass (a + b
/// written into z_buffer, the GEMM accumulating into it, the activation reading it) and recorded as
/// the four ops matmul, add, bias_add, act. The matmul, add and bias_add nodes keep no value
/// (Var::data throws); z_buffer (B·d, reusable from step to step) defaults to fresh tape storage.
/// z = (a + b) + h_prev·W: rounding differs from the op-by-op (a + h_prev·W) + b by an ulp.
/// h_out, if given, is where h's value goes (B·d, e.g. a row block of all steps' states).
/// defer_weight_grad (internal, for VanillaRNN): the matmul's backward leaves dW to
/// detail::rnn_projection's (below); a cell with it set needs that projection.
template <class T>
Var<T> rnn_cell(const Var<T>& a, const Var<T>& h_prev, const Var<T>& W, const Var<T>& b, OpKind act,
                T* z_buffer = nullptr, T* h_out = nullptr, bool defer_weight_grad = false);
/// One LSTM step (PyTorch's gate order i, f, g, o) in one pass, recorded as the composed ops in
/// their order — matmul(h_prev, W), add(xp, ·), four slice_cols, sigmoid/sigmoid/tanh/sigmoid,
/// mul(f, c_prev), mul(i, g), add, tanh, mul(o, ·) — each with its own backward, so the graph and
/// the gradients are the composed ones. gates = xp + h_prev·W is written once into gates_buffer
/// (B·4d, reusable from step to step; default: fresh tape storage) with the GEMM accumulating into
/// it; the matmul, add, slice and the two inner mul nodes keep no value. Returns {h, c}.
/// xp (B, 4d): x·W_xh + b, rows of the input projection; h_prev, c_prev (B, d); W (d, 4d).
/// h_out, if given, is where h's value goes (B·d, a row block of all steps' states); with
/// defer_weight_grad the matmul's backward leaves dW to detail::rnn_projection's, as for rnn_cell
/// (dm_t = dgates_t = dxp_t: the projection's gradient is the recurrent product's).
template <class T>
std::array<Var<T>, 2> lstm_cell(const Var<T>& xp, const Var<T>& h_prev, const Var<T>& c_prev, const Var<T>& W,
                                T* gates_buffer = nullptr, T* h_out = nullptr, bool defer_weight_grad = false);
/// One GRU step (PyTorch's r, z, n) in one pass, recorded as the composed ops in their order:
/// \code{.unparsed}
///   mm = h_prev·W, m = mm + b; r = σ(xp_r + m_r); z = σ(xp_z + m_z); n = tanh(xp_n + r ⊙ m_n);
///   h = n + z ⊙ (h_prev - n)
/// \endcode
/// (matmul, bias_add, then per gate slice_cols(xp), slice_cols(m), add, act — the n gate's
/// mul(r, m_n) before its add — then sub, mul, add). m = h_prev·W + b is written once into
/// m_buffer (B·3d, reusable; default: fresh tape storage); only m_n, r, z, n, h_prev - n and h
/// keep values. xp (B, 3d): x·W_xh + b_x; h_prev (B, d); W (d, 3d); b (3d).
template <class T>
Var<T> gru_cell(const Var<T>& xp, const Var<T>& h_prev, const Var<T>& W, const Var<T>& b, T* m_buffer = nullptr);
// P = X·W_xh for time-major X (T, B, n), W_xh (n, G): the input projection of every step, one GEMM.
// Its backward also accumulates W_hh's (d, G) gradient over the whole sequence in one GEMM,
// dW_hh += Σ_t h_{t-1}ᵀ·dP_t (also for lstm_cell steps, whose dm_t is dP_t),
// for a recurrence whose step t is rnn_cell(P_t, h_{t-1}, W_hh, ..., h_out = H + t·B·d,
// defer_weight_grad = true) from h0: there dm_t = ds_t = dP_t, and H holds h_1..h_T back to back.
// One (d × T·B)·(T·B × d) GEMM runs up to 1.4x faster than T thin ones (K = B). Internal to the
// models (VanillaRNN::forward_sequence): the contract between the two is not checked. With a
// bias b (G), it returns P + b as linear() does (P's node then keeps no value).
namespace detail {
template <class T>
Var<T> rnn_projection(const Var<T>& X, const Var<T>& W_xh, const Var<T>& W_hh, const Var<T>& h0, T* H,
                      const Var<T>* b = nullptr);
}

// ---- reductions and losses (framework/ops/reduce.cpp, loss.cpp)
template <class T> Var<T> sum(const Var<T>& x);   ///< y = Σ x
template <class T> Var<T> mean(const Var<T>& x);  ///< y = Σ x / n
/// y[i, :] = x[i, :] - log Σ_j exp x[i, j], over the last axis
template <class T> Var<T> log_softmax(const Var<T>& x);
/// y[i, :] = softmax(x[i, :]) over the last axis. With a mask (x's element count of {0, 1}), the
/// masked-out entries get probability exactly 0 and no gradient, as x.masked_fill(~mask, -inf)
/// .softmax(-1) gives them (their x is never read: NaN there is harmless); a row with every entry
/// masked out is a UsageError naming the row, as is a mask value other than 0 or 1. A mask of
/// another size than x's is a ShapeError.
template <class T> Var<T> softmax(const Var<T>& x, const std::vector<T>& mask = {});
/// Mean over rows i with mask[i] != 0 of -log softmax(logits[i])[targets[i]]. logits (N,C) or
/// (B,T,C) read as (N,C); targets N ints in [0,C); mask empty (all rows) or N values in {0,1}.
template <class T> Var<T> cross_entropy(const Var<T>& logits, const std::vector<int64_t>& targets,
                                        const std::vector<T>& mask = {});
/// The same with targets (N ints) and mask (N values, or null: every row) from plain arrays; both
/// are copied onto the tape.
template <class T> Var<T> cross_entropy(const Var<T>& logits, const int64_t* targets, const T* mask);
template <class T> Var<T> mse(const Var<T>& a, const Var<T>& b);  ///< y = mean((a - b)²)

// ---- shape (framework/ops/shape.cpp)
template <class T> Var<T> select_time(const Var<T>& x, int64_t t);  ///< (B,T,F) -> (B,F) at step t
template <class T> Var<T> time_major(const Var<T>& x);  ///< (B,T,F) -> (T,B,F): each step's rows contiguous
template <class T> Var<T> slice_rows(const Var<T>& x, int64_t begin, int64_t end);  ///< x[begin:end, ...]
template <class T> Var<T> gather_rows(const Var<T>& x, const std::vector<int64_t>& rows);  ///< y[i] = x[rows[i]]
template <class T> Var<T> stack_time(const std::vector<Var<T>>& steps);  ///< T × (B,F) -> (B,T,F)
template <class T> Var<T> concat(const std::vector<Var<T>>& xs);        ///< along the last axis
/// y[..., j] = x[..., begin + j] for j < end - begin: columns of the last axis (framework/ops/columns.cpp)
template <class T> Var<T> slice_cols(const Var<T>& x, int64_t begin, int64_t end);
template <class T> Var<T> concat_rows(const std::vector<Var<T>>& xs);   ///< along the first axis
template <class T> Var<T> reshape(const Var<T>& x, const Shape& shape); ///< same values, new shape
/// (B,T,F): each sequence b reversed within its length, y[b, t] = x[b, lengths[b]-1-t] for
/// t < lengths[b], padding (t >= lengths[b]) copied as it is; lengths empty: every row full.
/// Its own inverse. ShapeError unless lengths has B values in [0, T].
template <class T> Var<T> reverse_time(const Var<T>& x, const std::vector<int64_t>& lengths = {});
/// y[i, :] = weight[ids[i], :]; ids has `shape` (N) or (B,T), output shape + (E). Repeated ids
/// accumulate in the weight's gradient.
template <class T> Var<T> embedding(const Var<T>& weight, const std::vector<int64_t>& ids, const Shape& ids_shape);
template <class T> Var<T> detach(const Var<T>& x);  ///< same value, no gradient flows back

// ---- operators
template <class T> Var<T> operator+(const Var<T>& a, const Var<T>& b) { return add(a, b); }  ///< add(a, b)
template <class T> Var<T> operator-(const Var<T>& a, const Var<T>& b) { return sub(a, b); }  ///< sub(a, b)
/// Mul(a, b): elementwise
template <class T> Var<T> operator*(const Var<T>& a, const Var<T>& b) { return mul(a, b); }

}  // namespace reel
