#pragma once
/// \file
/// The backward functions of the ops that fused forwards record (framework/ops/fused.cpp): a fused
/// forward computes several ops in one pass but records each of them with its own backward, so the
/// tape, its gradients and the graph export are those of the unfused ops.
#include "framework/tape.h"

namespace reel::detail {

template <class T> void matmul_backward(Tape<T>& tape, const Record<T>& r);
template <class T> void add_backward(Tape<T>& tape, const Record<T>& r);
template <class T> void bias_add_backward(Tape<T>& tape, const Record<T>& r);
template <class T> void tanh_backward(Tape<T>& tape, const Record<T>& r);
template <class T> void relu_backward(Tape<T>& tape, const Record<T>& r);
template <class T> void sub_backward(Tape<T>& tape, const Record<T>& r);
template <class T> void mul_backward(Tape<T>& tape, const Record<T>& r);
template <class T> void sigmoid_backward(Tape<T>& tape, const Record<T>& r);
template <class T> void slice_cols_backward(Tape<T>& tape, const Record<T>& r);
/// The unmaterialized node m = h_prev·W of a fused step and its matmul record (saving h_prev
/// unless it is a parameter); defer_weight_grad leaves dW to detail::rnn_projection's backward.
template <class T>
Var<T> record_recurrent_product(Tape<T>& tape, const Var<T>& h_prev, const Var<T>& W, bool defer_weight_grad);
/// The activation loops of tanh and sigmoid (y = f(x), n elements; x and y must not overlap).
/// z(B, N) += h(B, K)·W(K, N) for a recurrent weight W (a parameter): on its packed copy
/// (Tape::packed_param) where packing applies, else blas::gemm. beta = 1.
template <class T>
void recurrent_gemm(Tape<T>& tape, const Var<T>& h, const Var<T>& W, T* z);
/// y[i, :] = b for each of rows rows of width d (a bias broadcast before a beta = 1 GEMM)
template <class T>
void fill_rows(T* y, int64_t rows, const T* b, int64_t d);
void tanh_forward(const float* x, float* y, int64_t n);
void tanh_forward(const double* x, double* y, int64_t n);
void sigmoid_forward(const float* x, float* y, int64_t n);
void sigmoid_forward(const double* x, double* y, int64_t n);

}  // namespace reel::detail
