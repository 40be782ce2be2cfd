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
#include <memory>
#include <string>
#include <vector>

#include "framework/arena.h"
#include "framework/error.h"
#include "framework/parameter.h"
#include "framework/shape.h"

namespace reel {
namespace blas {
class PackedB;
}

/// The kind of op that made a node or a record: leaves (Input, Param) and one kind per op of
/// framework/ops.h, named by op_name().
enum class OpKind : uint8_t {
  Input, Param, MatMul, Add, Sub, Mul, BiasAdd, Scale, Tanh, Relu, Sigmoid, Sum, Mean,
  LogSoftmax, CrossEntropy, MSE, SelectTime, SliceRows, GatherRows, Stack, Concat, Embedding,
  Detach, ConcatRows, Reshape, TimeMajor, SliceCols, Exp, Log, Reciprocal, Div, Softmax, Dropout,
  ReverseTime, BatchMatMul,
  Custom,  ///< an op of a user's own (docs/guide.md, tests/test_guide_custom_op.cpp)
  kCount  ///< the number of kinds (not a kind)
};
/// The number of OpKind values: the size of per-kind tables (TapeStats).
constexpr int kNumOpKinds = static_cast<int>(OpKind::kCount);
/// The kind's name as graph export and messages print it ("matmul", "cross_entropy"); "?" for a
/// value outside OpKind.
const char* op_name(OpKind k);

template <class T>
class Tape;

/// One value on a tape: its storage, its gradient and what made it. The tape owns it (Tape::node);
/// op authors read and write nodes in their forward and backward functions.
template <class T>
struct Node {
  /// The value, row-major (null for an unmaterialized node: computed inside a fused op, not kept)
  T* value = nullptr;
  T* grad = nullptr;  ///< null until a gradient flows in (params: their store's grad)
  Shape shape;  ///< the value's shape
  OpKind kind = OpKind::Input;  ///< the op that made it (Input or Param for a leaf)
  bool requires_grad = false;  ///< whether a gradient flows into it (never for nodes made under no-grad)
  bool is_param = false;  ///< a parameter leaf: value and grad are its ParameterStore entry's
  bool retain_grad = false;  ///< keep the gradient after backward (retain_grad())
  int32_t step = -1;  ///< timestep the node was made in, -1 outside any
  const char* role = nullptr;  ///< optional static tag for graph export: "x", "h", "y", "loss"...
  int32_t alias_of = -1;       ///< views: the node whose value (and gradient) this one aliases
  int64_t alias_offset = 0;    ///< views: the element offset into alias_of's value and gradient
  T* value_t = nullptr;        ///< parameters, during backward: the value transposed (a cache)
};

/// One recorded op: its inputs, its output and its backward function, in execution order.
/// Tape::backward runs the records from last to first.
template <class T>
struct Record {
  /// An op's backward: reads the output's gradient and accumulates (+=) into its inputs' (Tape::grad).
  using Backward = void (*)(Tape<T>&, const Record&);
  Backward backward = nullptr;  ///< the op's backward function
  OpKind kind = OpKind::Input;  ///< the op recorded
  int32_t out = -1;  ///< the output node's id
  int32_t n_in = 0;  ///< how many inputs `in` holds
  const int32_t* in = nullptr;  ///< n_in input node ids, stored in the tape's index arena
  std::array<int64_t, 3> aux{};  ///< op payload: flags, sizes, offsets
  const void* extra = nullptr;   ///< op payload in tape storage: targets, ids, saved values
  size_t saved_bytes = 0;        ///< bytes this record keeps alive for backward
};

/// A handle to one node of a tape: {tape, node id, generation}, cheap to copy. Once the tape is
/// cleared the handle is stale and every use throws UsageError; a default-constructed Var is empty.
template <class T>
class Var {
 public:
  Var() = default;
  /// A handle to node id of tape's current recording (gen): what Tape::make and its siblings
  /// return. Programs get Vars from leaves and ops.
  Var(Tape<T>* tape, int32_t id, uint32_t gen) : tape_(tape), id_(id), gen_(gen) {}

  /// False for an empty (default-constructed) handle. A stale handle is still valid() but throws
  /// when used.
  bool valid() const { return tape_ != nullptr; }
  /// The tape the node lives on; throws UsageError on an empty handle.
  Tape<T>& tape() const;
  int32_t id() const { return id_; }  ///< the node's index on its tape (Tape::node)
  /// The recording the handle belongs to (the tape's changes with every clear())
  uint32_t generation() const { return gen_; }
  Shape shape() const;  ///< by value: a later op may grow the tape's node storage
  int64_t size() const { return shape().size(); }  ///< number of elements
  T* data() const;               ///< the value, row-major
  T item() const;                ///< the value of a one-element Var
  const T* grad() const;         ///< null if no gradient reached this node
  bool requires_grad() const;  ///< whether a gradient flows into this node (see Tape::backward)
  std::vector<T> to_vector() const;  ///< a copy of the value (size() elements)

 private:
  Tape<T>* tape_ = nullptr;
  int32_t id_ = -1;
  uint32_t gen_ = 0;
};

/// What a tape holds now, in counts and bytes (Tape::stats()).
struct TapeStats {
  size_t records = 0;  ///< records on the tape
  size_t nodes = 0;  ///< nodes on the tape (leaves, values, views)
  std::array<size_t, kNumOpKinds> records_by_kind{};  ///< records per OpKind
  std::array<size_t, kNumOpKinds> saved_bytes_by_kind{};  ///< Record::saved_bytes summed per OpKind
  size_t saved_bytes = 0;     ///< bytes the records keep alive for backward
  size_t value_bytes = 0;     ///< all values in the arena now
  size_t grad_bytes = 0;      ///< gradient storage in use now
  size_t peak_bytes = 0;      ///< high-water mark of values + gradients since clear()
  size_t cache_bytes = 0;     ///< transposed weights cached by the last backward (d x d per weight)
  size_t capacity_bytes = 0;  ///< what the arenas hold from the heap
};

/// A recording of ops for reverse-mode differentiation (the file description tells how it works).
/// T is float or double. Not copyable; not thread-safe: one tape per thread.
template <class T>
class Tape {
 public:
  Tape();
  ~Tape();
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  // ---- leaves
  /// A leaf holding a copy of shape.size() values from data (row-major). With requires_grad,
  /// backward computes its gradient (Var::grad).
  Var<T> input(const T* data, const Shape& shape, bool requires_grad = false);
  /// The same from a vector; throws ShapeError unless it holds shape.size() values.
  Var<T> input(const std::vector<T>& data, const Shape& shape, bool requires_grad = false);
  /// A leaf of zeros.
  Var<T> zeros(const Shape& shape, bool requires_grad = false);
  /// P's leaf (value and gradient in p itself): the same node for every use within one recording
  Var<T> param(Parameter<T>& p);

  // ---- backward
  /// Backpropagates from loss, which must hold one element (dloss/dloss = 1): every leaf that
  /// requires a gradient, and every parameter used, gets its gradient accumulated (+=). Throws
  /// ShapeError for a loss of more than one element, UsageError if it depends on nothing that
  /// requires a gradient.
  ///
  /// PyTorch's rule for running backward twice over one recording: the second call throws
  /// UsageError unless the first passed retain_graph = true; with it, the second backward's
  /// gradients accumulate (+=) into every leaf, input leaves and parameters alike. clear() starts a
  /// new recording.
  void backward(const Var<T>& loss, bool retain_graph = false);
  /// Any root, with its output gradient given (root.size() values).
  void backward(const Var<T>& root, const T* seed, bool retain_graph = false);

  // ---- which gradients outlive backward
  // Like PyTorch, backward keeps the gradients of leaves (inputs made with requires_grad, and
  // parameters, in their store) and of nodes marked with retain_grad(); an intermediate node's
  // gradient buffer is recycled as soon as the op that produced the node has run its backward,
  // and its Var::grad() is null afterwards. This keeps backward's gradient memory to a few
  // timesteps' worth instead of one buffer per node of the unrolled graph.
  /// Keeps v's gradient after backward (Var::grad stays readable), as PyTorch's retain_grad(). For a
  /// view, its parent's buffer is kept.
  void retain_grad(const Var<T>& v) {
    check(v, "retain_grad");
    for (int32_t id = v.id(); id >= 0; id = nodes_[static_cast<size_t>(id)].alias_of)
      nodes_[static_cast<size_t>(id)].retain_grad = true;  // a view keeps its parent's buffer
  }
  /// Keep every node's gradient until clear() (for inspecting a graph's gradients, and for the
  /// exact byte accounting of framework/memory, whose model counts one buffer per node).
  void set_retain_grads(bool on) { retain_all_ = on; }
  bool retain_grads() const { return retain_all_; }  ///< whether set_retain_grads is on

  /// Drops every node and record, keeps the arenas' capacity. Outstanding Vars become stale.
  void clear();
  /// clear() and give the arenas' memory back.
  void release();

  // ---- grad mode
  bool grad_enabled() const { return grad_enabled_; }  ///< whether ops record (false under NoGradGuard)
  /// Recording on or off (NoGradGuard does it for a scope)
  void set_grad_enabled(bool on) { grad_enabled_ = on; }
  /// Under no-grad, values still live until clear(): past this many bytes (default 1 GiB) the tape
  /// warns once (spdlog) that a loop of forwards is missing tape.clear().
  void set_inference_warn_bytes(size_t bytes) { inference_warn_bytes_ = bytes; }
  bool warned_inference_growth() const { return growth_warned_; }  ///< whether that warning was given

  // ---- where parameter gradients go
  /// On (the default), parameter gradients go into each parameter's store, accumulating; off,
  /// into a buffer on this tape (Node::grad of the parameter's node), so a backward leaves the
  /// store untouched: for probes (the memory estimator measures a step this way). Set it before
  /// the recording; clear() keeps it.
  void set_store_grads(bool on) { store_grads_ = on; }
  bool store_grads() const { return store_grads_; }  ///< whether parameter gradients go into their store

  // ---- gradient-ready notification (data-parallel training, framework/distributed)
  /// The hook set_grad_ready_hook installs: called with its ctx and a parameter whose gradient is final.
  using GradReadyFn = void (*)(void* ctx, const Parameter<T>& p);
  /// During the next backward, fn(ctx, p) is called once for every parameter p used in the
  /// recording, as soon as p's gradient is final: right after the backward of the earliest record
  /// that reads p (or a view of p), so the head's gradients are announced long before W_hh's and the
  /// embedding's. Parameters come in the reverse order of their first use. Null fn turns it off;
  /// clear() keeps it.
  void set_grad_ready_hook(GradReadyFn fn, void* ctx) {
    ready_fn_ = fn;
    ready_ctx_ = ctx;
  }

  // ---- fused forwards
  /// Fused forwards (rnn_cell, lstm_cell, gru_cell, used by the cells' steps) on or off; on by
  /// default. Off, models record op by op, every value kept: for anomaly mode, which scans every value.
  void set_fusion(bool on) { fusion_ = on; }
  bool fusion() const { return fusion_; }  ///< whether fused forwards are on

  // ---- timestep annotation (for graph export and anomaly reports)
  /// Nodes made from now on belong to timestep t (-1: outside any); StepScope sets it for a scope.
  void set_step(int32_t t) { step_ = t; }
  int32_t step() const { return step_; }  ///< the current timestep (-1: outside any)
  /// Tags a node with a static string (models mark inputs "x", hidden states "h", outputs "y").
  void set_role(const Var<T>& v, const char* role) {
    check(v, "set_role");
    nodes_[static_cast<size_t>(v.id())].role = role;
  }

  // ---- introspection
  size_t num_records() const { return records_.size(); }  ///< records since clear()
  size_t num_nodes() const { return nodes_.size(); }  ///< nodes since clear()
  TapeStats stats() const;  ///< counts and bytes of what the tape holds now
  const std::vector<Record<T>>& records() const { return records_; }  ///< every record, in execution order
  /// Node id, unchecked (id from a valid Var of this tape)
  const Node<T>& node(int32_t id) const { return nodes_[static_cast<size_t>(id)]; }
  const Parameter<T>* param_of(int32_t id) const;  ///< null unless node id is a parameter leaf

  // ---- op-author API: used by the op implementations in framework/ops
  void check(const Var<T>& v, const char* op) const;  ///< throws on stale/foreign/empty handles
  /// A new node of this shape whose value storage (value(id)) is uninitialised, for the op to fill;
  /// it requires a gradient if requires_grad and grad mode is on (record() then settles it from the
  /// op's inputs).
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
  Node<T>& node_mut(int32_t id) { return nodes_[static_cast<size_t>(id)]; }  ///< node id, writable, unchecked
  /// Node id's value storage (null if unmaterialized)
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
  /// A rank-2 float parameter packed for many products (blas::PackedB): op(B) = W, or Wᵀ with
  /// transposed. Null for double, for a node that is not a rank-2 parameter, and where packing does
  /// not apply (the product then runs as a plain blas::gemm on the value). The packed copy is
  /// kept across recordings and re-checked against the parameter's values (a 64-bit checksum of
  /// their bits, one pass) after clear(), at the start of every backward and after refresh_packed():
  /// values changed in between (an optimizer step) are repacked, never used stale. Within one
  /// recording between those points the values are taken as fixed: a program that changes a
  /// parameter's values in the middle of a recording (between two fused steps of one unroll,
  /// or between RunnerSteps::step calls) must call refresh_packed() first.
  const blas::PackedB* packed_param(int32_t id, bool transposed);
  /// Parameters may have changed since their packing was last checked: packed_param() checks again
  /// before its next use. The sequence runner calls it at the start of every unroll.
  void refresh_packed() { ++pack_epoch_; }
  /// Gradient pass-through without a copy: if to's gradient is still empty and from's buffer is
  /// dead after the running backward (not kept, not a parameter, not a view), to takes over
  /// from's buffer (same size) and from's gradient becomes null. For ops whose input gradient is
  /// the output's (add, bias_add) or an elementwise function of it computed in place (tanh).
  /// Never in set_retain_grads mode. Call only from the backward of the op that produced from.
  bool can_move_grad(int32_t from, int32_t to) const;
  /// Moves from's gradient buffer to `to` when can_move_grad allows it; returns whether it did.
  bool move_grad(int32_t from, int32_t to);
  /// N uninitialised values of tape storage (an op's saved data); live until clear()
  T* scratch(size_t n) { return values_.alloc(n); }
  /// N uninitialised integers of tape storage; live until clear()
  int64_t* ints(size_t n) { return ints_.alloc(n); }
  /// Room for n input ids that record_n uses in place; lives until clear()
  int32_t* node_ids(size_t n) { return index_.alloc(n); }
  /// Records an op if grad mode is on and any input needs a gradient, setting the output's
  /// requires_grad from its inputs. Returns the record, whose aux and extra payload the op may
  /// fill, or null if nothing was recorded. saved_bytes: what the op keeps alive for backward.
  Record<T>* record(OpKind kind, typename Record<T>::Backward bw, const Var<T>& out,
                    std::initializer_list<int32_t> inputs, size_t saved_bytes);
  /// record() with n inputs from an array (node_ids() storage is used in place, other memory copied).
  Record<T>* record_n(OpKind kind, typename Record<T>::Backward bw, const Var<T>& out,
                      const int32_t* inputs, int32_t n, size_t saved_bytes);
  /// Whether any of these nodes needs a gradient
  bool any_requires_grad(std::initializer_list<int32_t> ids) const;

 private:
  std::vector<Node<T>> nodes_;
  std::vector<Record<T>> records_;
  std::vector<std::pair<const Parameter<T>*, int32_t>> param_nodes_;
  Arena<T> values_;
  Arena<T> grads_;
  Arena<T> cache_;  ///< transposed parameters, rebuilt by every backward
  struct PackedEntry {
    const T* source = nullptr;
    bool transposed = false;
    uint64_t epoch = 0;  // pack_epoch_ when last checked against source
    uint64_t checksum = 0;  // of source's values when packed (tape.cpp: values_checksum)
    std::unique_ptr<blas::PackedB> packed;
  };
  std::vector<PackedEntry> packed_;  ///< packed parameters, kept across recordings (packed_param)
  uint64_t pack_epoch_ = 1;
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
  /// Turns t's recording off until the guard is destroyed, then restores the previous mode.
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
  /// Sets t's timestep to step until the scope is destroyed, then restores the previous one.
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
