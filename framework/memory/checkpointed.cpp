#include "framework/memory/checkpointed.h"

#include <algorithm>
#include <cstring>
#include <string>

#include <spdlog/spdlog.h>

namespace reel::memory {

namespace {
struct Stored {
  int64_t pos;
  size_t offset, size;  // elements in the stack buffer
};
}  // namespace

template <class T>
RunStats CheckpointedBPTT<T>::run(Tape<T>& tape, const SequenceProblem<T>& p, const Plan& plan) {
  p.validate("CheckpointedBPTT");
  const int64_t Tn = p.steps(), B = p.batch(), d = p.state_dim(), o = p.output_dim();
  if (plan.steps() != Tn)
    throw UsageError("CheckpointedBPTT: the plan is for " + std::to_string(plan.steps()) + " steps, the problem has " +
                     std::to_string(Tn));
  const MemoryModel model = memory_model(p, /*measure=*/false);  // sizes only: the host buffers
  // The plan's bytes are exact for a tape that keeps one gradient buffer per node until clear();
  // recycling lowers the peak below the plan. The caller's setting comes back afterwards.
  // The model counts the fused recurrence's allocations: fusion on for the run (anomaly mode
  // turns it off to scan every value; a checkpointed run's loss reaches the trainer as a leaf).
  struct ModeScope {
    Tape<T>& t;
    bool retain, fusion;
    ~ModeScope() {
      t.set_retain_grads(retain);
      t.set_fusion(fusion);
    }
  } modes{tape, tape.retain_grads(), tape.fusion()};
  tape.set_fusion(true);
  tape.set_retain_grads(keep_gradients_);
  head_.set_retain_grads(keep_gradients_);
  const size_t state = static_cast<size_t>(B * d), outputs = static_cast<size_t>(B * o);
  const size_t host = model.host_buffers();
  auto rows_in = [&](int64_t t) { return static_cast<size_t>(p.rows_into(t) * d); };

  stack_.resize(std::max(stack_.size(), state * static_cast<size_t>(plan.snapshots + 1)));
  std::vector<Stored> stored;
  stored.reserve(static_cast<size_t>(plan.snapshots + 1));
  if (p.h0.empty())
    std::fill_n(stack_.begin(), state, T(0));
  else
    std::copy(p.h0.begin(), p.h0.end(), stack_.begin());
  stored.push_back({0, 0, state});
  size_t stack_bytes = state * sizeof(T);
  cur_.resize(state);
  dh_.resize(state);
  if (p.final_loss) {
    finals_.assign(outputs, T(0));
    dfinals_.assign(outputs, T(0));
  }
  terms_.assign(static_cast<size_t>(Tn), T(0));
  int64_t cur_pos = -1;
  bool has_dh = false;
  T final_value = T(0);
  const int64_t count_total = count_in(p, 0, Tn);

  RunStats st;
  st.snapshot_peak_bytes = stack_bytes;
  auto observe = [&](size_t tape_bytes) {
    st.tape_peak_bytes = std::max(st.tape_peak_bytes, tape_bytes);
    st.peak_bytes = std::max(st.peak_bytes, stack_bytes + host + tape_bytes);
  };
  auto load = [&](int64_t pos) -> const T* {
    if (cur_pos == pos) return cur_.data();
    for (auto it = stored.rbegin(); it != stored.rend(); ++it)
      if (it->pos == pos) return stack_.data() + it->offset;
    throw UsageError("CheckpointedBPTT: the plan needs the state entering step " + std::to_string(pos) +
                     ", which it did not store");
  };

  for (const Action& a : plan.actions) {
    switch (a.kind) {
      case Action::Advance: {
        const T* src = load(a.begin);
        if (src != cur_.data()) std::copy_n(src, rows_in(a.begin), cur_.begin());
        // A chunk at a time: its steps' values stay on the tape (fewer bytes than its recording).
        auto c = std::upper_bound(plan.bounds.begin(), plan.bounds.end(), a.begin) - 1;
        for (; *c < a.end; ++c) {
          advance(tape, p, *c, *(c + 1), cur_, p.final_loss ? finals_.data() : nullptr, false);
          observe(tape.stats().value_bytes);
        }
        cur_pos = a.end;
        st.recomputed_steps += a.end - a.begin;
        break;
      }
      case Action::Snapshot: {
        const size_t off = stored.back().offset + stored.back().size, n = rows_in(a.begin);
        if (stack_.size() < off + n) stack_.resize(off + n);
        const T* src = load(a.begin);
        std::copy_n(src, n, stack_.begin() + static_cast<std::ptrdiff_t>(off));
        stored.push_back({a.begin, off, n});
        stack_bytes += n * sizeof(T);
        st.snapshot_peak_bytes = std::max(st.snapshot_peak_bytes, stack_bytes);
        break;
      }
      case Action::Drop:
        if (stored.size() < 2 || stored.back().pos != a.begin)
          throw UsageError("CheckpointedBPTT: the plan drops a state that is not the last stored");
        stack_bytes -= stored.back().size * sizeof(T);
        stored.pop_back();
        break;
      case Action::Reverse: {
        const T* src = load(a.begin);
        tape.clear();
        Scope<T> sc = record_scope(tape, p, a.begin, a.end, src, a.begin > 0);
        for (size_t i = 0; i < sc.terms.size(); ++i) terms_[static_cast<size_t>(sc.term_steps[i])] = sc.terms[i].item();
        st.recorded_steps += a.end - a.begin;
        std::vector<Seed<T>> seeds;
        if (a.end == Tn && p.final_loss) {
          // Every final state is known now (earlier ones from the advances): run the loss head.
          for (size_t k = 0; k < sc.final_pieces.size(); ++k) {
            const int64_t t = sc.final_steps[k], next = t + 1 < Tn ? p.batch_sizes[static_cast<size_t>(t + 1)] : 0;
            std::memcpy(finals_.data() + next * o, sc.final_pieces[k].data(),
                        static_cast<size_t>(sc.final_pieces[k].size()) * sizeof(T));
          }
          head_.clear();
          Var<T> leaf = head_.input(finals_.data(), Shape{B, o}, true);
          Var<T> fl = p.final_loss(head_, leaf);
          final_value = fl.item();
          head_.backward(seeded_sum<T>({fl}, {T(1)}));
          observe(0);
          st.peak_bytes = std::max(st.peak_bytes, stack_bytes + host + tape.stats().value_bytes + head_.stats().peak_bytes);
          st.tape_peak_bytes = std::max(st.tape_peak_bytes, head_.stats().peak_bytes);
          if (const T* g = leaf.grad())
            std::copy_n(g, outputs, dfinals_.begin());
          else
            std::fill(dfinals_.begin(), dfinals_.end(), T(0));
          head_.clear();
          ++st.backward_calls;
        }
        if (a.end < Tn && has_dh) seeds.push_back({sc.h.back(), dh_.data()});
        if (p.final_loss)
          for (size_t k = 0; k < sc.final_pieces.size(); ++k) {
            const int64_t t = sc.final_steps[k], next = t + 1 < Tn ? p.batch_sizes[static_cast<size_t>(t + 1)] : 0;
            seeds.push_back({sc.final_pieces[k], dfinals_.data() + next * o});
          }
        Var<T> root = scope_root(p, sc, Var<T>(), seeds, count_total);
        if (root.valid() && root.requires_grad()) {
          tape.backward(root);
          ++st.backward_calls;
        }
        observe(tape.stats().peak_bytes);
        has_dh = false;
        if (a.begin > 0)
          if (const T* g = sc.h_start.grad()) {
            std::copy_n(g, rows_in(a.begin), dh_.begin());
            has_dh = true;
          }
        break;
      }
    }
  }
  // The loss, summed in the order full BPTT's root sums it.
  T acc = T(0);
  if (p.step_loss)
    for (int64_t t = 0; t < Tn; ++t)
      acc += static_cast<T>(p.step_counts[static_cast<size_t>(t)]) / static_cast<T>(count_total) * terms_[static_cast<size_t>(t)];
  if (p.final_loss) acc += T(1) * final_value;
  st.loss = static_cast<double>(acc);
  spdlog::debug("checkpointed BPTT: {} steps, {} recorded, {} recomputed, peak {} bytes", Tn, st.recorded_steps,
                st.recomputed_steps, st.peak_bytes);
  last_ = st;
  return st;
}

template <class T>
Var<T> CheckpointedBPTT<T>::run_as_loss(Tape<T>& tape, const SequenceProblem<T>& p, const Plan& plan) {
  const RunStats st = run(tape, p, plan);
  tape.clear();
  const T v = static_cast<T>(st.loss);
  return tape.input(&v, Shape{}, true);
}

template class CheckpointedBPTT<float>;
template class CheckpointedBPTT<double>;

}  // namespace reel::memory
