#pragma once
/// \file
/// The tape: reel's reverse-mode autodiff core.
///
///  * Every value lives in a Node owned by the tape; its storage comes from an arena the tape
///    reuses from one iteration to the next (clear() keeps capacity), so a steady-state iteration
///    makes no heap allocation per op.
///  * A Var is a small handle {tape, node id, generation}. A handle from before clear() is stale
///    and throws when used.
///  * Every op appends one Record (inputs, output, a plain function pointer for its backward,
///    a few integers of payload). backward(loss) seeds dloss/dloss = 1 and walks the records from
///    last to first; each backward accumulates (+=) into its inputs' gradients.
///  * Parameters are leaves whose value and gradient live in a ParameterStore: the tape reads and
///    accumulates in place, so a weight used at T timesteps gets the sum of T contributions, and
///    gradients keep accumulating across backward calls until ParameterStore::zero_grad().
///  * With grad mode off (NoGradGuard, inference) ops compute values but record nothing.
///  * The tape knows the timestep each node was made in (set_step), which the DOT export uses.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "framework/arena.h"
#include "framework/error.h"
#include "framework/parameter.h"
#include "framework/shape.h"

namespace reel {

enum class OpKind : uint8_t {
  Input, Param, MatMul, Add, Sub, Mul, BiasAdd, Scale, Tanh, Relu, Sigmoid, Sum, Mean,
  LogSoftmax, CrossEntropy, MSE, SelectTime, SliceRows, GatherRows, Stack, Concat, Embedding,
  Detach, ConcatRows, Reshape, TimeMajor, SliceCols,
  Custom,  ///< an op of a user's own (docs/guide.md, tests/test_guide_custom_op.cpp)
  kCount
};
constexpr int kNumOpKinds = static_cast<int>(OpKind::kCount);
const char* op_name(OpKind k);

template <class T>
class Tape;

template <class T>
struct Node {
  T* value = nullptr;
  T* grad = nullptr;  ///< null until a gradient flows in (params: their store's grad)
  Shape shape;
  OpKind kind = OpKind::Input;
  bool requires_grad = false;
  bool is_param = false;
  bool retain_grad = false;  ///< keep the gradient after backward (retain_grad())
  int32_t step = -1;  ///< timestep the node was made in, -1 outside any
  const char* role = nullptr;  ///< optional static tag for graph export: "x", "h", "y", "loss"...
  int32_t alias_of = -1;       ///< views: the node whose value (and gradient) this one aliases
  int64_t alias_offset = 0;    ///<   at this element offset
  T* value_t = nullptr;        ///< parameters, during backward: the value transposed (a cache)
};

template <class T>
struct Record {
  using Backward = void (*)(Tape<T>&, const Record&);
  Backward backward = nullptr;
  OpKind kind = OpKind::Input;
  int32_t out = -1;
  int32_t n_in = 0;
  const int32_t* in = nullptr;  ///< n_in input node ids, stored in the tape's index arena
  std::array<int64_t, 3> aux{};  ///< op payload: flags, sizes, offsets
  const void* extra = nullptr;   ///< op payload in tape storage: targets, ids, saved values
  size_t saved_bytes = 0;        ///< bytes this record keeps alive for backward
};

template <class T>
class Var {
 public:
  Var() = default;
  Var(Tape<T>* tape, int32_t id, uint32_t gen) : tape_(tape), id_(id), gen_(gen) {}

  bool valid() const { return tape_ != nullptr; }
  Tape<T>& tape() const;
  int32_t id() const { return id_; }
  uint32_t generation() const { return gen_; }
  Shape shape() const;  ///< by value: a later op may grow the tape's node storage
  int64_t size() const { return shape().size(); }
  T* data() const;               ///< the value, row-major
  T item() const;                ///< the value of a one-element Var
  const T* grad() const;         ///< null if no gradient reached this node
  bool requires_grad() const;
  std::vector<T> to_vector() const;

 private:
  Tape<T>* tape_ = nullptr;
  int32_t id_ = -1;
  uint32_t gen_ = 0;
};

struct TapeStats {
  size_t records = 0;
  size_t nodes = 0;
  std::array<size_t, kNumOpKinds> records_by_kind{};
  std::array<size_t, kNumOpKinds> saved_bytes_by_kind{};
  size_t saved_bytes = 0;     ///< bytes the records keep alive for backward
  size_t value_bytes = 0;     ///< all values in the arena now
  size_t grad_bytes = 0;      ///< gradient storage in use now
  size_t peak_bytes = 0;      ///< high-water mark of values + gradients since clear()
  size_t cache_bytes = 0;     ///< transposed weights cached by the last backward (d x d per weight)
  size_t capacity_bytes = 0;  ///< what the arenas hold from the heap
};

template <class T>
class Tape {
 public:
  Tape();
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  // ---- leaves
  Var<T> input(const T* data, const Shape& shape, bool requires_grad = false);
  Var<T> input(const std::vector<T>& data, const Shape& shape, bool requires_grad = false);
  Var<T> zeros(const Shape& shape, bool requires_grad = false);
  Var<T> param(Parameter<T>& p);  ///< the same node for every use within one recording

  // ---- backward
  // loss must hold one element; dloss/dloss = 1.
  //
  // PyTorch's rule for running backward twice over one recording: the second call throws
  // UsageError unless the first passed retain_graph = true; with it, the second backward's
  // gradients accumulate (+=) into every leaf, input leaves and parameters alike. clear() starts a
  // new recording.
  void backward(const Var<T>& loss, bool retain_graph = false);
  /// Any root, with its output gradient given (root.size() values).
  void backward(const Var<T>& root, const T* seed, bool retain_graph = false);

  // ---- which gradients outlive backward
  // Like PyTorch, backward keeps the gradients of leaves (inputs made with requires_grad, and
  // parameters, in their store) and of nodes marked with retain_grad(); an intermediate node's
  // gradient buffer is recycled as soon as the op that produced the node has run its backward,
  // and its Var::grad() is null afterwards. This keeps backward's gradient memory to a few
  // timesteps' worth instead of one buffer per node of the unrolled graph.
  void retain_grad(const Var<T>& v) {
    check(v, "retain_grad");
    for (int32_t id = v.id(); id >= 0; id = nodes_[static_cast<size_t>(id)].alias_of)
      nodes_[static_cast<size_t>(id)].retain_grad = true;  // a view keeps its parent's buffer
  }
  /// Keep every node's gradient until clear() (for inspecting a graph's gradients, and for the
  /// exact byte accounting of framework/memory, whose model counts one buffer per node).
  void set_retain_grads(bool on) { retain_all_ = on; }
  bool retain_grads() const { return retain_all_; }

  /// Drops every node and record, keeps the arenas' capacity. Outstanding Vars become stale.
  void clear();
  /// clear() and give the arenas' memory back.
  void release();

  // ---- grad mode
  bool grad_enabled() const { return grad_enabled_; }
  void set_grad_enabled(bool on) { grad_enabled_ = on; }
  /// Under no-grad, values still live until clear(): past this many bytes (default 1 GiB) the tape
  /// warns once (spdlog) that a loop of forwards is missing tape.clear().
  void set_inference_warn_bytes(size_t bytes) { inference_warn_bytes_ = bytes; }
  bool warned_inference_growth() const { return growth_warned_; }

  // ---- where parameter gradients go. On (the default), into each parameter's store, accumulating;
  // off, into a buffer on this tape (Node::grad of the parameter's node), so a backward leaves
  // the store untouched: for probes (the memory estimator measures a step this way). Set it
  // before the recording; clear() keeps it.
  void set_store_grads(bool on) { store_grads_ = on; }
  bool store_grads() const { return store_grads_; }

  // ---- gradient-ready notification (data-parallel training, framework/distributed). During the
  // next backward, fn(ctx, p) is called once for every parameter p used in the recording, as soon
  // as p's gradient is final: right after the backward of the earliest record that reads p (or a
  // view of p), so the head's gradients are announced long before W_hh's and the embedding's.
  // Parameters come in the reverse order of their first use. Null fn turns it off; clear() keeps it.
  using GradReadyFn = void (*)(void* ctx, const Parameter<T>& p);
  void set_grad_ready_hook(GradReadyFn fn, void* ctx) {
    ready_fn_ = fn;
    ready_ctx_ = ctx;
  }

  // ---- fused forwards (on by default). Off, models record op by op, every value kept: for
  // anomaly mode, which scans every value.
  void set_fusion(bool on) { fusion_ = on; }
  bool fusion() const { return fusion_; }

  // ---- timestep annotation (for graph export and anomaly reports)
  void set_step(int32_t t) { step_ = t; }
  int32_t step() const { return step_; }
  /// Tags a node with a static string (models mark inputs "x", hidden states "h", outputs "y").
  void set_role(const Var<T>& v, const char* role) {
    check(v, "set_role");
    nodes_[static_cast<size_t>(v.id())].role = role;
  }

  // ---- introspection
  size_t num_records() const { return records_.size(); }
  size_t num_nodes() const { return nodes_.size(); }
  TapeStats stats() const;
  const std::vector<Record<T>>& records() const { return records_; }
  const Node<T>& node(int32_t id) const { return nodes_[static_cast<size_t>(id)]; }
  const Parameter<T>* param_of(int32_t id) const;  ///< null unless node id is a parameter leaf

  // ---- op-author API: used by the op implementations in framework/ops
  void check(const Var<T>& v, const char* op) const;  ///< throws on stale/foreign/empty handles
  Var<T> make(const Shape& shape, OpKind kind, bool requires_grad);
  /// A node whose value aliases existing tape storage (values never change once computed):
  /// contiguous slices, reshapes and detach cost no copy.
  Var<T> make_view(const Shape& shape, OpKind kind, T* value);
  /// A node whose value is not kept: a fused forward computed it inside a later op's pass (see
  /// rnn_cell in framework/ops.h). It has a shape, records and a gradient like any node; Var::data()
  /// on it throws.
  Var<T> make_unmaterialized(const Shape& shape, OpKind kind);
  /// A view of node parent's value at offset whose gradient is also parent's gradient at offset:
  /// its backward then has nothing to do (contiguous row slices, reshapes).
  Var<T> make_alias(const Shape& shape, OpKind kind, int32_t parent, int64_t offset);
  Node<T>& node_mut(int32_t id) { return nodes_[static_cast<size_t>(id)]; }
  T* value(int32_t id) { return nodes_[static_cast<size_t>(id)].value; }
  /// The gradient buffer of node id, zero-filled on first use; null if the node needs no gradient.
  T* grad(int32_t id);
  /// Like grad(), but a new buffer is NOT zeroed: *fresh tells the caller to assign (=) every
  /// element instead of accumulating (+=). Saves a memset per op in backward.
  T* grad_for_write(int32_t id, bool* fresh);
  /// A rank-2 parameter's value transposed, built once per backward pass and cached: products
  /// with a weight's transpose (dX = dY·Wᵀ, at every timestep) then run as plain NN GEMMs, which
  /// OpenBLAS runs 1.2-1.45x faster than NT at RNN shapes (32x256 by 256x256: 92 vs 75 GFLOP/s).
  const T* transposed_param(int32_t id);
  /// Gradient pass-through without a copy: if to's gradient is still empty and from's buffer is
  /// dead after the running backward (not kept, not a parameter, not a view), to takes over
  /// from's buffer (same size) and from's gradient becomes null. For ops whose input gradient is
  /// the output's (add, bias_add) or an elementwise function of it computed in place (tanh).
  /// Never in set_retain_grads mode. Call only from the backward of the op that produced from.
  bool can_move_grad(int32_t from, int32_t to) const;
  bool move_grad(int32_t from, int32_t to);
  T* scratch(size_t n) { return values_.alloc(n); }            ///< lives until clear()
  int64_t* ints(size_t n) { return ints_.alloc(n); }           ///< lives until clear()
  int32_t* node_ids(size_t n) { return index_.alloc(n); }      ///< lives until clear(); record_n keeps it
  /// Records an op if grad mode is on and any input needs a gradient.
  Record<T>* record(OpKind kind, typename Record<T>::Backward bw, const Var<T>& out,
                    std::initializer_list<int32_t> inputs, size_t saved_bytes);
  Record<T>* record_n(OpKind kind, typename Record<T>::Backward bw, const Var<T>& out,
                      const int32_t* inputs, int32_t n, size_t saved_bytes);
  bool any_requires_grad(std::initializer_list<int32_t> ids) const;

 private:
  std::vector<Node<T>> nodes_;
  std::vector<Record<T>> records_;
  std::vector<std::pair<const Parameter<T>*, int32_t>> param_nodes_;
  Arena<T> values_;
  Arena<T> grads_;
  Arena<T> cache_;  ///< transposed parameters, rebuilt by every backward
  Arena<int64_t> ints_;
  Arena<int32_t> index_;
  struct FreeList {
    size_t elems;
    std::vector<T*> buffers;
  };
  FreeList& free_list(size_t elems);
  void order_ready_params();
  void warn_inference_growth();
  T* alloc_grad(size_t n);
  void recycle_grad(Node<T>& n);
  std::vector<FreeList> free_grads_;  ///< recycled gradient buffers by size; capacity kept
  uint32_t gen_ = 1;
  int32_t step_ = -1;
  bool grad_enabled_ = true;
  bool retain_all_ = false;
  bool fusion_ = true;
  bool store_grads_ = true;
  size_t peak_bytes_ = 0;
  bool consumed_ = false;  ///< backpropagated without retain_graph: a second backward throws
  bool growth_warned_ = false;
  size_t inference_warn_bytes_ = size_t{1} << 30;
  GradReadyFn ready_fn_ = nullptr;
  void* ready_ctx_ = nullptr;
  /// (first-use record index, parameter) for the hook, latest first use first; capacity kept.
  std::vector<std::pair<int64_t, const Parameter<T>*>> ready_order_;
  std::vector<int32_t> ready_slot_;  ///< node id -> index in param_nodes_, or -1
};

/// Turns recording off for its lifetime (inference mode): ops compute, nothing is recorded.
template <class T>
class NoGradGuard {
 public:
  explicit NoGradGuard(Tape<T>& t) : tape_(t), prev_(t.grad_enabled()) { t.set_grad_enabled(false); }
  ~NoGradGuard() { tape_.set_grad_enabled(prev_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  Tape<T>& tape_;
  bool prev_;
};

/// Sets the tape's current timestep for its lifetime.
template <class T>
class StepScope {
 public:
  StepScope(Tape<T>& t, int32_t step) : tape_(t), prev_(t.step()) { t.set_step(step); }
  ~StepScope() { tape_.set_step(prev_); }
  StepScope(const StepScope&) = delete;
  StepScope& operator=(const StepScope&) = delete;

 private:
  Tape<T>& tape_;
  int32_t prev_;
};

}  // namespace reel

// ---- Var's inline accessors (need the full Tape)
namespace reel {

template <class T>
Tape<T>& Var<T>::tape() const {
  if (!tape_) throw UsageError("Var: empty handle (default-constructed Var used in an op)");
  return *tape_;
}
template <class T>
Shape Var<T>::shape() const {
  tape().check(*this, "Var::shape");
  return tape_->node(id_).shape;
}
template <class T>
T* Var<T>::data() const {
  tape().check(*this, "Var::data");
  T* v = tape_->value(id_);
  if (!v)
    throw UsageError(std::string("Var::data: the value of this ") + op_name(tape_->node(id_).kind) +
                     " node was computed inside a fused op and not kept (ask the model for intermediates, or "
                     "call tape.set_fusion(false), to keep it)");
  return v;
}
template <class T>
bool Var<T>::requires_grad() const {
  tape().check(*this, "Var::requires_grad");
  return tape_->node(id_).requires_grad;
}

}  // namespace reel
