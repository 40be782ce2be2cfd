#include "framework/tape.h"

#include "framework/blas_packed.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace reel {

const char* op_name(OpKind k) {
  static const char* const names[] = {
      "input", "param", "matmul", "add", "sub", "mul", "bias_add", "scale", "tanh", "relu",
      "sigmoid", "sum", "mean", "log_softmax", "cross_entropy", "mse", "select_time",
      "slice_rows", "gather_rows", "stack", "concat", "embedding", "detach",
      "concat_rows", "reshape", "time_major", "slice_cols", "exp", "log", "reciprocal", "div",
      "softmax", "dropout", "reverse_time", "bmm", "custom"};
  // One name per kind: a kind added to OpKind without its name here fails to compile.
  static_assert(sizeof(names) / sizeof(names[0]) == kNumOpKinds, "op_name: one name per OpKind");
  int i = static_cast<int>(k);
  return i >= 0 && i < kNumOpKinds ? names[i] : "?";
}

template <class T>
T Var<T>::item() const {
  if (size() != 1)
    throw ShapeError("Var::item: expected a one-element value, got shape " + shape().str());
  return data()[0];
}

template <class T>
const T* Var<T>::grad() const {
  tape().check(*this, "Var::grad");
  const Node<T>& n = tape_->node(id_);
  // A view's gradient lives in its parent's buffer: gone if the parent's was recycled.
  if (n.alias_of >= 0 && !tape_->node(n.alias_of).grad) return nullptr;
  return n.grad;
}

template <class T>
std::vector<T> Var<T>::to_vector() const {
  const T* p = data();
  return std::vector<T>(p, p + size());
}

template <class T>
Tape<T>::Tape()
    : values_(size_t{1} << 18), grads_(size_t{1} << 18), cache_(size_t{1} << 16), ints_(4096), index_(4096) {}

template <class T>
void Tape<T>::check(const Var<T>& v, const char* op) const {
  if (!v.valid()) throw UsageError(std::string(op) + ": empty Var handle");
  if (&v.tape() != this) throw UsageError(std::string(op) + ": Var belongs to another tape");
  if (v.generation() != gen_)
    throw UsageError(std::string(op) + ": stale Var (recorded before the tape was cleared)");
  if (v.id() < 0 || static_cast<size_t>(v.id()) >= nodes_.size())
    throw UsageError(std::string(op) + ": Var id out of range");
}

template <class T>
Var<T> Tape<T>::make(const Shape& shape, OpKind kind, bool requires_grad) {
  // shape may refer into nodes_, which push_back can move: everything is read before it.
  Node<T> n;
  n.value = values_.alloc(static_cast<size_t>(shape.size()));
  n.shape = shape;
  n.kind = kind;
  n.requires_grad = requires_grad && grad_enabled_;
  n.step = step_;
  nodes_.push_back(n);
  if (!grad_enabled_ && !growth_warned_ && values_.used_bytes() > inference_warn_bytes_) warn_inference_growth();
  return Var<T>(this, static_cast<int32_t>(nodes_.size() - 1), gen_);
}

// Under no-grad nothing is recorded, but every value stays until clear(): a loop of forwards that
// never clears grows without bound. Said once per tape, with the fix.
template <class T>
void Tape<T>::warn_inference_growth() {
  growth_warned_ = true;
  spdlog::warn("Tape: {:.0f} MiB of values kept under no-grad (NoGradGuard) since the last clear(): nothing is recorded, "
               "but values live until tape.clear(); call tape.clear() between inference batches "
               "(for_each_batch_no_grad in data/loader.h does)",
               static_cast<double>(values_.used_bytes()) / (1 << 20));
}

template <class T>
Var<T> Tape<T>::make_view(const Shape& shape, OpKind kind, T* value) {
  Node<T> n;
  n.value = value;
  n.shape = shape;
  n.kind = kind;
  n.step = step_;
  nodes_.push_back(n);
  return Var<T>(this, static_cast<int32_t>(nodes_.size() - 1), gen_);
}

template <class T>
Var<T> Tape<T>::make_unmaterialized(const Shape& shape, OpKind kind) {
  Node<T> n;
  n.shape = shape;
  n.kind = kind;
  n.step = step_;
  nodes_.push_back(n);
  return Var<T>(this, static_cast<int32_t>(nodes_.size() - 1), gen_);
}

template <class T>
Var<T> Tape<T>::make_alias(const Shape& shape, OpKind kind, int32_t parent, int64_t offset) {
  // A view of a view aliases the root's storage: the gradient lookups then need one hop, and a
  // recycled root buffer is seen by every view of it.
  const Node<T>& p = nodes_[static_cast<size_t>(parent)];
  if (p.alias_of >= 0) {
    offset += p.alias_offset;
    parent = p.alias_of;
  }
  if (!nodes_[static_cast<size_t>(parent)].value)
    throw UsageError(std::string("a view of a ") + op_name(nodes_[static_cast<size_t>(parent)].kind) +
                     " node whose value a fused op did not keep (ask for intermediates, or tape.set_fusion(false))");
  Var<T> v = make_view(shape, kind, nodes_[static_cast<size_t>(parent)].value + offset);
  Node<T>& n = nodes_[static_cast<size_t>(v.id())];
  n.alias_of = parent;
  n.alias_offset = offset;
  return v;
}

template <class T>
Var<T> Tape<T>::input(const T* data, const Shape& shape, bool requires_grad) {
  const size_t n = static_cast<size_t>(shape.size());  // before make(): shape may live in nodes_
  Var<T> v = make(shape, OpKind::Input, requires_grad);
  std::memcpy(value(v.id()), data, n * sizeof(T));
  return v;
}

template <class T>
Var<T> Tape<T>::input(const std::vector<T>& data, const Shape& shape, bool requires_grad) {
  if (static_cast<int64_t>(data.size()) != shape.size())
    throw ShapeError("Tape::input: " + std::to_string(data.size()) + " values for shape " +
                     shape.str() + " (" + std::to_string(shape.size()) + " expected)");
  return input(data.data(), shape, requires_grad);
}

template <class T>
Var<T> Tape<T>::zeros(const Shape& shape, bool requires_grad) {
  const int64_t n = shape.size();  // before make(): shape may live in nodes_
  Var<T> v = make(shape, OpKind::Input, requires_grad);
  std::fill_n(value(v.id()), n, T(0));
  return v;
}

template <class T>
Var<T> Tape<T>::param(Parameter<T>& p) {
  // One node per parameter per recording (drawn once in the graph), unless grad mode changed.
  for (auto& [ptr, id] : param_nodes_)
    if (ptr == &p && nodes_[static_cast<size_t>(id)].requires_grad == grad_enabled_) return Var<T>(this, id, gen_);
  if (static_cast<int64_t>(p.value.size()) != p.shape.size() || p.grad.size() != p.value.size())
    throw UsageError("Tape::param: parameter '" + p.name + "' storage does not match its shape " +
                     p.shape.str());
  Node<T> n;
  n.value = p.value.data();
  if (store_grads_) {
    n.grad = p.grad.data();
  } else {
    n.grad = grads_.alloc(p.value.size());
    std::fill_n(n.grad, p.value.size(), T(0));
  }
  n.shape = p.shape;
  n.kind = OpKind::Param;
  n.requires_grad = grad_enabled_;
  n.is_param = true;
  nodes_.push_back(n);
  int32_t id = static_cast<int32_t>(nodes_.size() - 1);
  param_nodes_.emplace_back(&p, id);
  return Var<T>(this, id, gen_);
}

template <class T>
const Parameter<T>* Tape<T>::param_of(int32_t id) const {
  for (auto& [ptr, pid] : param_nodes_)
    if (pid == id) return ptr;
  return nullptr;
}

template <class T>
T* Tape<T>::grad(int32_t id) {
  Node<T>& n = nodes_[static_cast<size_t>(id)];
  if (!n.requires_grad) return nullptr;
  if (!n.grad && n.alias_of >= 0) {  // a view's gradient lives inside its parent's
    T* pg = grad(n.alias_of);
    n.grad = pg ? pg + n.alias_offset : nullptr;
    return n.grad;
  }
  if (!n.grad) {
    n.grad = alloc_grad(static_cast<size_t>(n.shape.size()));
    std::fill_n(n.grad, n.shape.size(), T(0));
  }
  return n.grad;
}

template <class T>
T* Tape<T>::grad_for_write(int32_t id, bool* fresh) {
  Node<T>& n = nodes_[static_cast<size_t>(id)];
  *fresh = false;
  if (!n.requires_grad) return nullptr;
  if (!n.grad && n.alias_of >= 0) return grad(id);  // aliased: accumulate into the parent's
  if (!n.grad) {
    n.grad = alloc_grad(static_cast<size_t>(n.shape.size()));
    *fresh = true;
  }
  return n.grad;
}

template <class T>
bool Tape<T>::can_move_grad(int32_t from, int32_t to) const {
  const Node<T>& f = nodes_[static_cast<size_t>(from)];
  const Node<T>& t = nodes_[static_cast<size_t>(to)];
  return !retain_all_ && f.grad && !f.is_param && !f.retain_grad && f.alias_of < 0 && t.requires_grad &&
         !t.grad && !t.is_param && t.alias_of < 0 && t.shape.size() == f.shape.size();
}

template <class T>
bool Tape<T>::move_grad(int32_t from, int32_t to) {
  if (!can_move_grad(from, to)) return false;
  nodes_[static_cast<size_t>(to)].grad = nodes_[static_cast<size_t>(from)].grad;
  nodes_[static_cast<size_t>(from)].grad = nullptr;
  return true;
}

template <class T>
typename Tape<T>::FreeList& Tape<T>::free_list(size_t elems) {
  for (FreeList& f : free_grads_)
    if (f.elems == elems) return f;
  free_grads_.push_back(FreeList{elems, {}});  // a new size: once per size, capacity kept after
  return free_grads_.back();
}

template <class T>
T* Tape<T>::alloc_grad(size_t n) {
  FreeList& f = free_list(n);
  if (f.buffers.empty()) return grads_.alloc(n);
  T* p = f.buffers.back();
  f.buffers.pop_back();
  return p;
}

template <class T>
void Tape<T>::recycle_grad(Node<T>& n) {
  if (!n.grad || n.is_param || n.retain_grad || n.alias_of >= 0) return;
  free_list(static_cast<size_t>(n.shape.size())).buffers.push_back(n.grad);
  n.grad = nullptr;
}

template <class T>
const T* Tape<T>::transposed_param(int32_t id) {
  Node<T>& n = nodes_[static_cast<size_t>(id)];
  if (!n.is_param || n.shape.rank != 2)
    throw UsageError("Tape::transposed_param: node " + std::to_string(id) + " is not a rank-2 parameter");
  if (!n.value_t) {
    const int64_t r = n.shape[0], c = n.shape[1];
    T* t = cache_.alloc(static_cast<size_t>(r * c));  // lives until the next backward or clear()
    const T* v = n.value;
    constexpr int64_t kb = 32;  // blocked, so both sides stay in cache
    for (int64_t i0 = 0; i0 < r; i0 += kb)
      for (int64_t j0 = 0; j0 < c; j0 += kb)
        for (int64_t i = i0; i < std::min(r, i0 + kb); ++i)
          for (int64_t j = j0; j < std::min(c, j0 + kb); ++j) t[j * r + i] = v[i * c + j];
    n.value_t = t;
  }
  return n.value_t;
}

template <class T>
Tape<T>::~Tape() = default;

template <class T>
bool Tape<T>::any_requires_grad(std::initializer_list<int32_t> ids) const {
  for (int32_t id : ids)
    if (nodes_[static_cast<size_t>(id)].requires_grad) return true;
  return false;
}

template <class T>
Record<T>* Tape<T>::record_n(OpKind kind, typename Record<T>::Backward bw, const Var<T>& out,
                             const int32_t* inputs, int32_t n, size_t saved_bytes) {
  if (!grad_enabled_) return nullptr;
  bool needed = false;
  for (int32_t i = 0; i < n; ++i) needed = needed || nodes_[static_cast<size_t>(inputs[i])].requires_grad;
  Node<T>& o = nodes_[static_cast<size_t>(out.id())];
  o.requires_grad = needed;
  if (!needed) return nullptr;
  Record<T> r;
  r.backward = bw;
  r.kind = kind;
  r.out = out.id();
  r.n_in = n;
  if (index_.owns(inputs)) {
    r.in = inputs;  // already in tape storage (node_ids())
  } else {
    int32_t* ins = index_.alloc(static_cast<size_t>(n));
    std::copy_n(inputs, n, ins);
    r.in = ins;
  }
  r.saved_bytes = saved_bytes;
  records_.push_back(r);
  return &records_.back();
}

template <class T>
Record<T>* Tape<T>::record(OpKind kind, typename Record<T>::Backward bw, const Var<T>& out,
                           std::initializer_list<int32_t> inputs, size_t saved_bytes) {
  return record_n(kind, bw, out, inputs.begin(), static_cast<int32_t>(inputs.size()), saved_bytes);
}

template <class T>
void Tape<T>::backward(const Var<T>& loss, bool retain_graph) {
  check(loss, "backward");
  if (loss.size() != 1)
    throw ShapeError("backward: the loss must hold one element, got shape " + loss.shape().str() +
                     " (pass an output gradient to backward(root, seed) for other shapes)");
  T one = T(1);
  backward(loss, &one, retain_graph);
}

template <class T>
void Tape<T>::backward(const Var<T>& root, const T* seed, bool retain_graph) {
  check(root, "backward");
  if (!nodes_[static_cast<size_t>(root.id())].requires_grad)
    throw UsageError("backward: the root does not depend on anything that requires a gradient");
  if (consumed_)
    throw UsageError("backward: this recording was already backpropagated. To run backward over it again (the "
                     "gradients then accumulate, as in PyTorch), pass retain_graph = true to the first backward; "
                     "otherwise record again after tape.clear()");
  // A second, retained backward accumulates into input leaves as into parameters: keep their
  // gradients across the reset of the gradient arena.
  std::vector<std::pair<int32_t, std::vector<T>>> leaf_grads;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node<T>& n = nodes_[i];
    if (n.grad && !n.is_param && n.kind == OpKind::Input && n.alias_of < 0)
      leaf_grads.emplace_back(static_cast<int32_t>(i), std::vector<T>(n.grad, n.grad + n.shape.size()));
  }
  for (Node<T>& n : nodes_) {
    if (!n.is_param) n.grad = nullptr;
    n.value_t = nullptr;
  }
  grads_.reset();
  cache_.reset();
  ++pack_epoch_;  // packed parameters: checked against their values again before use
  for (FreeList& f : free_grads_) f.buffers.clear();
  for (auto& [id, g] : leaf_grads) std::copy(g.begin(), g.end(), grad(id));
  consumed_ = !retain_graph;
  T* g = grad(root.id());
  const int64_t n = root.size();
  for (int64_t i = 0; i < n; ++i) g[i] += seed[i];
  if (ready_fn_) order_ready_params();
  size_t next_ready = 0;
  for (size_t i = records_.size(); i-- > 0;) {
    const Record<T>& r = records_[i];
    Node<T>& out = nodes_[static_cast<size_t>(r.out)];
    // A view's gradient is its parent's slice, which may have been written through the parent.
    if (!out.grad && out.alias_of >= 0 && nodes_[static_cast<size_t>(out.alias_of)].grad) grad(r.out);
    if (out.grad) {
      r.backward(*this, r);
      // Every consumer of r.out was recorded after r and has run: its gradient is complete, and
      // nothing reads it again unless it is kept.
      if (!retain_all_) recycle_grad(nodes_[static_cast<size_t>(r.out)]);
    }
    for (; next_ready < ready_order_.size() && ready_order_[next_ready].first == static_cast<int64_t>(i); ++next_ready)
      ready_fn_(ready_ctx_, *ready_order_[next_ready].second);
  }
  if (ready_fn_)  // parameters no record reads: their gradient is final (unchanged) too
    for (; next_ready < ready_order_.size(); ++next_ready) ready_fn_(ready_ctx_, *ready_order_[next_ready].second);
  peak_bytes_ = std::max(peak_bytes_, values_.used_bytes() + grads_.peak_bytes());
}

// For the gradient-ready hook: each parameter node's first reading record (through views), latest
// first. A parameter no record reads sorts last (first use -1).
template <class T>
void Tape<T>::order_ready_params() {
  ready_order_.clear();
  ready_slot_.assign(nodes_.size(), -1);
  for (size_t k = 0; k < param_nodes_.size(); ++k) {
    ready_slot_[static_cast<size_t>(param_nodes_[k].second)] = static_cast<int32_t>(k);
    ready_order_.emplace_back(-1, param_nodes_[k].first);
  }
  for (size_t i = 0; i < records_.size(); ++i) {
    const Record<T>& r = records_[i];
    for (int32_t k = 0; k < r.n_in; ++k) {
      int32_t n = r.in[k];
      while (ready_slot_[static_cast<size_t>(n)] < 0 && nodes_[static_cast<size_t>(n)].alias_of >= 0)
        n = nodes_[static_cast<size_t>(n)].alias_of;
      const int32_t slot = ready_slot_[static_cast<size_t>(n)];
      if (slot >= 0 && ready_order_[static_cast<size_t>(slot)].first < 0)
        ready_order_[static_cast<size_t>(slot)].first = static_cast<int64_t>(i);
    }
  }
  std::stable_sort(ready_order_.begin(), ready_order_.end(),
                   [](const auto& x, const auto& y) { return x.first > y.first; });
}

template <class T>
void Tape<T>::clear() {
  nodes_.clear();
  records_.clear();
  param_nodes_.clear();
  values_.reset();
  grads_.reset();
  grads_.reset_peak();
  cache_.reset();
  ++pack_epoch_;  // packed parameters: checked against their values again before use
  for (FreeList& f : free_grads_) f.buffers.clear();
  ints_.reset();
  index_.reset();
  ++gen_;
  step_ = -1;
  peak_bytes_ = 0;
  consumed_ = false;
}

template <class T>
void Tape<T>::release() {
  clear();
  nodes_.shrink_to_fit();
  records_.shrink_to_fit();
  values_.release();
  grads_.release();
  cache_.release();
  free_grads_.clear();
  ints_.release();
  index_.release();
}

template <class T>
TapeStats Tape<T>::stats() const {
  TapeStats s;
  s.records = records_.size();
  s.nodes = nodes_.size();
  for (const Record<T>& r : records_) {
    auto k = static_cast<size_t>(r.kind);
    s.records_by_kind[k] += 1;
    s.saved_bytes_by_kind[k] += r.saved_bytes;
    s.saved_bytes += r.saved_bytes;
  }
  s.value_bytes = values_.used_bytes();
  s.grad_bytes = grads_.used_bytes();
  s.peak_bytes = std::max(peak_bytes_, values_.used_bytes() + grads_.used_bytes());
  s.cache_bytes = cache_.used_bytes();
  s.capacity_bytes = values_.capacity_bytes() + grads_.capacity_bytes() + cache_.capacity_bytes() +
                     ints_.capacity_bytes() + index_.capacity_bytes() +
                     nodes_.capacity() * sizeof(Node<T>) + records_.capacity() * sizeof(Record<T>);
  return s;
}

template class Var<float>;
template class Var<double>;
template class Tape<float>;
template class Tape<double>;

}  // namespace reel
