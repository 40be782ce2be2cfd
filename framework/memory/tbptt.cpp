#include "framework/memory/tbptt.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace reel::memory {

template <class T>
TruncatedBPTT<T>::TruncatedBPTT(SequenceProblem<T> problem, TbpttOptions options)
    : p_(std::move(problem)), k1_(options.k1), k2_(options.k2 <= 0 ? options.k1 : options.k2) {
  p_.validate("TruncatedBPTT");
  if (k1_ <= 0) throw UsageError("TruncatedBPTT: k1 must be >= 1, got " + std::to_string(k1_));
  if (k2_ > k1_)
    throw UsageError("TruncatedBPTT: k2 (" + std::to_string(k2_) + ") must not exceed k1 (" + std::to_string(k1_) + ")");
  reset();
}

template <class T>
void TruncatedBPTT<T>::reset() {
  next_ = 0;
  const size_t state = static_cast<size_t>(p_.batch() * p_.state_dim());
  if (p_.h0.empty())
    h_.assign(state, T(0));
  else
    h_ = p_.h0;
  finals_.assign(static_cast<size_t>(p_.batch() * p_.output_dim()), T(0));
  scope_ = Scope<T>();
}

template <class T>
void TruncatedBPTT<T>::restore(int64_t next_window, const std::vector<T>& state, const std::vector<T>& finals) {
  if (next_window < 0 || next_window > windows())
    throw UsageError("TruncatedBPTT::restore: window " + std::to_string(next_window) + " outside [0, " +
                     std::to_string(windows()) + "]");
  const size_t full = static_cast<size_t>(p_.batch() * p_.state_dim());
  const size_t full_out = static_cast<size_t>(p_.batch() * p_.output_dim());
  const size_t rows = static_cast<size_t>(p_.rows_into(window_begin(next_window)) * p_.state_dim());
  if (state.size() != rows && state.size() != full)
    throw ShapeError("TruncatedBPTT::restore: a state of " + std::to_string(state.size()) + " values, expected " +
                     std::to_string(rows));
  if (!finals.empty() && finals.size() != full_out)
    throw ShapeError("TruncatedBPTT::restore: finals of " + std::to_string(finals.size()) + " values, expected " +
                     std::to_string(full_out));
  next_ = next_window;
  h_.assign(full, T(0));  // capacity for every row, so that advance() never reallocates
  std::copy(state.begin(), state.end(), h_.begin());
  h_.resize(rows);  // a full-batch state: its live rows (the others belong to ended sequences)
  finals_ = finals.empty() ? std::vector<T>(full_out, T(0)) : finals;
  scope_ = Scope<T>();
}

template <class T>
int64_t TruncatedBPTT<T>::windows() const {
  return (p_.steps() + k1_ - 1) / k1_;
}
template <class T>
int64_t TruncatedBPTT<T>::window_begin(int64_t w) const {
  return std::min(w * k1_, p_.steps());
}
template <class T>
int64_t TruncatedBPTT<T>::window_end(int64_t w) const {
  return std::min((w + 1) * k1_, p_.steps());
}
template <class T>
int64_t TruncatedBPTT<T>::recorded_begin(int64_t w) const {
  return std::max(window_begin(w), window_end(w) - k2_);
}

template <class T>
bool TruncatedBPTT<T>::has_loss(int64_t w) const {
  if (w < 0 || w >= windows()) return false;
  return (p_.step_loss && count_in(p_, recorded_begin(w), window_end(w)) > 0) ||
         (p_.final_loss && window_end(w) == p_.steps());
}

template <class T>
Var<T> TruncatedBPTT<T>::record_window(Tape<T>& tape) {
  if (done()) throw UsageError("TruncatedBPTT::record_window: every window has run");
  const int64_t w = next_;
  if (!has_loss(w))
    throw UsageError("TruncatedBPTT::record_window: window " + std::to_string(w) +
                     " has no loss term (skip_window it)");
  const int64_t b = window_begin(w), rb = recorded_begin(w), e = window_end(w), o = p_.output_dim();
  tape.clear();
  if (rb > b) advance(tape, p_, b, rb, h_, finals_.data());
  tape.clear();
  scope_ = record_scope(tape, p_, rb, e, h_.data(), false);
  // Carry the window's last state (detached: a plain copy) and keep the finals for later windows.
  const Var<T>& last = scope_.h.back();
  std::memcpy(h_.data(), last.data(), static_cast<size_t>(last.size()) * sizeof(T));
  h_.resize(static_cast<size_t>(last.size()));  // rows_into(e) x state_dim: what state() promises
  for (size_t k = 0; k < scope_.final_pieces.size(); ++k) {
    const int64_t t = scope_.final_steps[k];
    const int64_t next = t + 1 < p_.steps() ? p_.batch_sizes[static_cast<size_t>(t + 1)] : 0;
    std::memcpy(finals_.data() + next * o, scope_.final_pieces[k].data(),
                static_cast<size_t>(scope_.final_pieces[k].size()) * sizeof(T));
  }
  Var<T> final_term;
  if (p_.final_loss && e == p_.steps()) final_term = p_.final_loss(tape, finals_on_tape(tape, p_, scope_, finals_.data()));
  const int64_t count = count_in(p_, rb, e);
  Scope<T> terms_only = scope_;
  if (count == 0) terms_only.terms.clear(), terms_only.term_steps.clear();
  Var<T> root = scope_root(p_, terms_only, final_term, {}, count);
  ++next_;
  return root;
}

template <class T>
void TruncatedBPTT<T>::skip_window(Tape<T>& tape) {
  if (done()) throw UsageError("TruncatedBPTT::skip_window: every window has run");
  advance(tape, p_, window_begin(next_), window_end(next_), h_, finals_.data());
  h_.resize(static_cast<size_t>(p_.rows_into(window_end(next_)) * p_.state_dim()));
  tape.clear();
  scope_ = Scope<T>();
  ++next_;
}

template <class T>
std::vector<StepResult> TruncatedBPTT<T>::train(Trainer<T>& trainer, Tape<T>& tape) {
  std::vector<StepResult> out;
  while (!done()) {
    if (has_loss(next_))
      out.push_back(trainer.step(tape, [this](Tape<T>& t) { return record_window(t); }));
    else
      skip_window(tape);
  }
  return out;
}

template class TruncatedBPTT<float>;
template class TruncatedBPTT<double>;

}  // namespace reel::memory
