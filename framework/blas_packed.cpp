// blas::PackedB: op(B) reordered once into oneDNN's matmul weights layout, products on the matmul
// primitive (brgemm). The layout (BA16a64b here) does not depend on M, so one packed copy serves
// every batch size; primitives are cached per (M, N, K, beta). Where the primitive would not be
// oneDNN's JIT kernel, or the call belongs to OpenBLAS, the handle falls back to blas::gemm on B.
#include "framework/blas_packed.h"

#include <algorithm>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "framework/blas.h"
#include "framework/blas_detail.h"
#include "framework/error.h"

#if REEL_WITH_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace reel::blas {

namespace {
constexpr int64_t kNarrow = 32;        // N or K at most this: the automatic rule's OpenBLAS class
constexpr int64_t kBlockColumns = 64;  // column blocks of a split op(B): oneDNN's N block
}  // namespace

#if REEL_WITH_ONEDNN
namespace {

// One primitive for (m, n, k, beta, lda, ldc, slot) and the memory objects it executes with.
// `slot` is the part of a split call that runs it: oneDNN 2.6 (built without concurrent
// execution) must never run one primitive on two threads at once (its scratchpad is the
// primitive's own), so every part has primitives of its own, and parts never run concurrently
// with themselves (the pool runs each part once). The cache is per calling thread: two threads
// with their own tapes never share a primitive either.
struct Product {
  dnnl::matmul prim;
  dnnl::memory::desc weights;
  dnnl::memory src, dst;
  bool jit = false;
};
using ProductKey = std::tuple<int64_t, int64_t, int64_t, float, int64_t, int64_t, int>;

dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}
dnnl::stream& thread_stream() {
  thread_local dnnl::stream s(engine());
  return s;
}

// Node-based: a Product's address stays valid while entries are added. Emptied only at the
// start of a call (begin_call), never while a call holds pointers into it.
std::map<ProductKey, Product>& products() {
  thread_local std::map<ProductKey, Product> m;
  return m;
}
void begin_call() {
  if (products().size() >= 512) products().clear();  // bounded: batch sizes of packed sequences vary
}

// A (m, k) with row stride lda times packed weights (k, n) into C (m, n) with row stride ldc.
Product& product(int64_t m, int64_t n, int64_t k, float beta, int64_t lda, int64_t ldc, int slot) {
  auto& cache = products();
  const ProductKey key{m, n, k, beta, lda, ldc, slot};
  auto it = cache.find(key);
  if (it == cache.end()) {
    detail::OmpOneThread one;  // oneDNN reads the thread count when it creates the primitive
    using dt = dnnl::memory::data_type;
    Product p;
    const dnnl::memory::desc src({m, k}, dt::f32, dnnl::memory::dims{lda, 1});
    const dnnl::memory::desc dst({m, n}, dt::f32, dnnl::memory::dims{ldc, 1});
    const dnnl::memory::desc w({k, n}, dt::f32, dnnl::memory::format_tag::any);
    dnnl::primitive_attr attr;
    if (beta != 0.0f) {
      dnnl::post_ops po;
      po.append_sum(beta);
      attr.set_post_ops(po);
    }
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, w, dst), attr, engine());
    p.jit = std::string(pd.impl_info_str()).rfind("brg", 0) == 0;
    p.weights = pd.weights_desc();
    p.prim = dnnl::matmul(pd);
    p.src = dnnl::memory(src, engine(), static_cast<void*>(DNNL_MEMORY_NONE));
    p.dst = dnnl::memory(dst, engine(), static_cast<void*>(DNNL_MEMORY_NONE));
    it = cache.emplace(key, std::move(p)).first;
  }
  return it->second;
}

constexpr int kMaxBlocks = 16;

// What the parts of one packed product share (a pointer to it is all the pool's job captures).
struct PackedCall {
  const float* a;
  float* c;
  const std::vector<int64_t>* cols;
  const std::vector<dnnl::memory>* blocks;
  Product* prods[kMaxBlocks];
  int nblocks, parts;
  int64_t m, n, k;
};

void run_part(const PackedCall& pc, int part) {
  detail::OmpOneThread one;
  for (int i = part * pc.nblocks / pc.parts; i < (part + 1) * pc.nblocks / pc.parts; ++i) {
    Product& p = *pc.prods[i];
    dnnl::memory& src = p.src;
    dnnl::memory& dst = p.dst;
    src.set_data_handle(const_cast<float*>(pc.a));
    dst.set_data_handle(pc.c + (*pc.cols)[static_cast<size_t>(i)]);
    const dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, src.get()},
                                     {DNNL_ARG_WEIGHTS, (*pc.blocks)[static_cast<size_t>(i)].get()},
                                     {DNNL_ARG_DST, dst.get()}};
    const dnnl_status_t st = dnnl_primitive_execute(p.prim.get(), thread_stream().get(), 3, args);
    if (st != dnnl_success)
      throw std::runtime_error("oneDNN matmul failed (status " + std::to_string(static_cast<int>(st)) + ") at m=" +
                               std::to_string(pc.m) + " n=" + std::to_string(pc.n) + " k=" + std::to_string(pc.k));
  }
}

}  // namespace

struct PackedB::Impl {
  bool trans = false;
  int64_t k = 0, n = 0, ldb = 0;
  const float* source = nullptr;
  int threads = 1;
  Mode mode = Mode::automatic;  // blas::mode() at pack time
  bool packed = false;
  std::vector<int64_t> cols;           // block boundaries of op(B)'s columns: blocks + 1 entries
  std::vector<dnnl::memory> blocks;    // the packed blocks (oneDNN's layout), one per column block
  std::vector<dnnl::memory::desc> descs;
};

void PackedB::pack(bool trans_b, int64_t k, int64_t n, const float* b, int64_t ldb) {
  if (k < 0 || n < 0 || !b) throw UsageError("PackedB::pack: a " + std::to_string(k) + " x " + std::to_string(n) +
                                             " operand at " + (b ? "an address" : "null"));
  if (!impl_) impl_ = std::make_unique<Impl>();
  Impl& s = *impl_;
  const int threads = blas::threads();
  const bool same_layout = s.k == k && s.n == n && s.trans == trans_b && s.threads == threads && !s.blocks.empty();
  s.trans = trans_b, s.k = k, s.n = n, s.ldb = ldb, s.source = b, s.threads = threads, s.mode = mode();
  s.packed = backend_for(false, trans_b, 32, n, k) == Backend::onednn && std::min(n, k) > kNarrow;
  if (!s.packed) return;
  detail::OmpOneThread one;  // oneDNN reads the thread count when it creates primitives and reorders
  if (!same_layout) {
    s.cols.assign(1, 0);
    const int64_t grains = (n + kBlockColumns - 1) / kBlockColumns;
    const int64_t nblocks = std::max<int64_t>(1, std::min<int64_t>({threads, grains, kMaxBlocks}));
    for (int64_t i = 1; i <= nblocks; ++i) s.cols.push_back(std::min(n, grains * i / nblocks * kBlockColumns));
    s.blocks.clear();
    s.descs.clear();
    for (size_t i = 0; i + 1 < s.cols.size(); ++i) {
      const int64_t w = s.cols[i + 1] - s.cols[i];
      begin_call();
      Product& p = product(32, w, k, 1.0f, k, w, 0);  // the layout is the same for every M (checked per product)
      if (!p.jit) {
        s.packed = false;
        s.blocks.clear();
        return;
      }
      s.descs.push_back(p.weights);
      s.blocks.emplace_back(p.weights, engine());
    }
  }
  for (size_t i = 0; i + 1 < s.cols.size(); ++i) {
    const int64_t j0 = s.cols[i], w = s.cols[i + 1] - j0;
    // op(B)'s columns j0..j0+w as a (k, w) view: rows of B (not transposed) or B's rows j0.. read as columns
    const dnnl::memory::dims strides = trans_b ? dnnl::memory::dims{1, ldb} : dnnl::memory::dims{ldb, 1};
    const float* origin = trans_b ? b + j0 * ldb : b + j0;
    const dnnl::memory::desc plain({k, w}, dnnl::memory::data_type::f32, strides);
    dnnl::memory src(plain, engine(), const_cast<float*>(origin));
    dnnl::reorder(src, s.blocks[i]).execute(thread_stream(), src, s.blocks[i]);
  }
  thread_stream().wait();
}

bool PackedB::packed() const { return impl_ && impl_->packed; }

void gemm_packed(int64_t m, const float* a, int64_t lda, const PackedB& b, float beta, float* c, int64_t ldc) {
  if (!b.impl_) throw UsageError("gemm_packed: the PackedB was never packed");
  const PackedB::Impl& s = *b.impl_;
  if (m == 0 || s.n == 0) return;
  if (!s.packed) {
    gemm(false, s.trans, m, s.n, s.k, 1.0f, a, lda, s.source, s.ldb, beta, c, ldc);
    return;
  }
  PackedCall pc;
  pc.a = a, pc.c = c, pc.cols = &s.cols, pc.blocks = &s.blocks, pc.m = m, pc.n = s.n, pc.k = s.k;
  pc.nblocks = static_cast<int>(s.blocks.size());
  pc.parts = std::min(pc.nblocks, detail::onednn_parts(m, s.n, s.k, s.threads));
  // Block i computes C's columns cols[i]..cols[i+1]; part q runs blocks q·nb/parts .. (q+1)·nb/parts
  // in order, each on a primitive of part q's own. The blocks (not the parts) fix the result.
  begin_call();
  for (int q = 0; q < pc.parts; ++q)
    for (int i = q * pc.nblocks / pc.parts; i < (q + 1) * pc.nblocks / pc.parts; ++i) {
      const size_t bi = static_cast<size_t>(i);
      Product& p = product(m, s.cols[bi + 1] - s.cols[bi], s.k, beta, lda, ldc, q);
      if (!p.jit || p.weights != s.descs[bi]) {  // another layout for this M: plain GEMM
        gemm(false, s.trans, m, s.n, s.k, 1.0f, a, lda, s.source, s.ldb, beta, c, ldc);
        return;
      }
      pc.prods[i] = &p;
    }
  const PackedCall* call = &pc;
  detail::onednn_run_parts(pc.parts, s.threads, [call](int part) { run_part(*call, part); });
}

#else  // without oneDNN: the handle is B itself

struct PackedB::Impl {
  bool trans = false;
  int64_t k = 0, n = 0, ldb = 0;
  const float* source = nullptr;
  int threads = 1;
  Mode mode = Mode::automatic;
};

void PackedB::pack(bool trans_b, int64_t k, int64_t n, const float* b, int64_t ldb) {
  if (!impl_) impl_ = std::make_unique<Impl>();
  *impl_ = Impl{trans_b, k, n, ldb, b, blas::threads(), mode()};
}
bool PackedB::packed() const { return false; }
void gemm_packed(int64_t m, const float* a, int64_t lda, const PackedB& b, float beta, float* c, int64_t ldc) {
  if (!b.impl_) throw UsageError("gemm_packed: the PackedB was never packed");
  const PackedB::Impl& s = *b.impl_;
  gemm(false, s.trans, m, s.n, s.k, 1.0f, a, lda, s.source, s.ldb, beta, c, ldc);
}

#endif

PackedB::PackedB() = default;
PackedB::~PackedB() = default;
bool PackedB::holds(bool trans_b, int64_t k, int64_t n, const float* b, int64_t ldb) const {
  return impl_ && impl_->source == b && impl_->k == k && impl_->n == n && impl_->trans == trans_b && impl_->ldb == ldb &&
         impl_->threads == blas::threads() && impl_->mode == mode();
}
int64_t PackedB::k() const { return impl_ ? impl_->k : 0; }
int64_t PackedB::n() const { return impl_ ? impl_->n : 0; }

}  // namespace reel::blas
