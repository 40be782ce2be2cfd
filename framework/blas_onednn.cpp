// oneDNN's sgemm behind blas::gemm, and the pool that runs it on more than one thread.
//
// Debian's libdnnl 2.6 is built with the OpenMP CPU runtime (dnnl_version()->cpu_runtime ==
// DNNL_RUNTIME_OMP, libgomp). Left alone, oneDNN would run every call on omp_get_max_threads()
// threads — all cores unless OMP_NUM_THREADS says otherwise, per calling thread — and libgomp's
// workers spin ~300,000 pause iterations after every parallel region (milliseconds: at 2 threads,
// 200 x (GEMM + 2 ms sleep) burnt 0.43 s of CPU beyond the GEMMs' own; bench/idle_cpu). GOMP reads
// OMP_WAIT_POLICY / GOMP_SPINCOUNT once, when it loads, before main: no call a library makes later
// turns the spinning off (a setenv from main changed nothing), and the passive policy made
// oneDNN's own threading slower than one thread at the recurrence's shapes. So oneDNN runs at ONE
// OpenMP thread in every call (the calling thread's nthreads ICV is set to 1 for the call and
// restored after; OpenMP never starts a worker), and reel splits a large call into blocks of C
// over its own pool: workers that sleep on a condition variable (0.02 s beyond the GEMMs in the
// same measurement), flush denormals when they start, and blocks that are a function of the shape
// and thread count alone (onednn_parts): bitwise the same result run to run.
#include "framework/blas_detail.h"

#if REEL_WITH_ONEDNN
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "framework/blas.h"

namespace reel::blas::detail {

OmpOneThread::OmpOneThread() : before_(omp_get_max_threads()) {
  if (before_ != 1) omp_set_num_threads(1);
}
OmpOneThread::~OmpOneThread() {
  if (before_ != 1) omp_set_num_threads(before_);
}

namespace {

// Smallest work per block worth waking a sleeping worker (2·m·n·k flops). bench_gemm's "split"
// class, (32 x 512)·(512 x w) on this 2-core KVM machine: splitting in 2 took 4.2 MFLOP from 190 to
// ~120 GFLOP/s, 8.4 MFLOP from ~190 to ~175, and paid from 16.8 MFLOP on (+7 %; +40 % at 33.5,
// +80 % at 67): a worker's wake-up costs tens of microseconds here.
constexpr double kMinFlopsPerPart = 8.0e6;
// How long a caller whose own block is done polls for the workers' blocks before it sleeps: a
// bounded wait inside its own call (workers never poll). Sleeping at once cost a second wake-up:
// (32 x 512)·(512 x 512) at 2 threads ran 142 GFLOP/s with no polling, 230 with up to 100 us.
constexpr int kCallerWaitMicros = 100;
// Blocks of C columns are a multiple of this many (one AVX-512 vector of floats).
constexpr int64_t kColumnGrain = 16;

thread_local int last_omp_threads = 0;
std::atomic<int64_t> split_blocks{0}, stolen_blocks{0};  // blocks of split calls; those the caller took over

// One oneDNN call at one OpenMP thread; the caller's OpenMP setting is left as it was.
void sgemm_one(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
               const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  dnnl_status_t st;
  {
    OmpOneThread one;
    last_omp_threads = omp_get_max_threads();
    st = dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
  if (st != dnnl_success)
    throw std::runtime_error("oneDNN dnnl_sgemm failed (status " + std::to_string(static_cast<int>(st)) + ") at " +
                             (ta ? "T" : "N") + (tb ? "T" : "N") + " m=" + std::to_string(m) + " n=" +
                             std::to_string(n) + " k=" + std::to_string(k) + " lda=" + std::to_string(lda) +
                             " ldb=" + std::to_string(ldb) + " ldc=" + std::to_string(ldc));
}

// Workers sleep on a condition variable between calls: they never poll. Part 0 of a job runs on
// the calling thread; part i >= 1 is worker i's, unless the caller, done with its own, finds it
// still unclaimed and computes it itself: a worker that the scheduler woke late, or on the
// caller's own core (both happen on a shared machine: a split call then ran slower than one
// thread), costs at most the time of one thread, never more. Which thread computes a block does
// not change its result: the block is the same call, with denormals flushed (FTZ/DAZ) either way.
class Pool {
 public:
  explicit Pool(int threads) : threads_(threads), claimed_(new std::atomic<uint64_t>[threads]) {
    for (int i = 0; i < threads; ++i) claimed_[i].store(0, std::memory_order_relaxed);
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { work(i); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> g(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : workers_) t.join();
  }
  int threads() const { return threads_; }

  void run(int parts, const std::function<void(int)>& fn) {
    uint64_t gen;
    {
      std::lock_guard<std::mutex> g(mu_);
      job_ = &fn;
      parts_ = parts;
      pending_.store(parts - 1, std::memory_order_relaxed);
      error_.clear();
      gen = ++generation_;
    }
    wake_.notify_all();
    std::string mine = guarded(fn, 0);
    for (int i = 1; i < parts; ++i) {  // the blocks no worker has started yet
      if (!claim(i, gen)) continue;
      stolen_blocks.fetch_add(1, std::memory_order_relaxed);
      std::string err;
      {
        FlushedDenormals f;
        err = guarded(fn, i);
      }
      if (mine.empty()) mine = err;
      pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
    // Blocks still running on workers: a short, bounded wait before sleeping saves a second
    // wake-up when they finish just after the caller's.
    if (pending_.load(std::memory_order_acquire) != 0) {
      const auto t0 = std::chrono::steady_clock::now();
      int polls = 0;
      while (pending_.load(std::memory_order_acquire) != 0) {
#if defined(__SSE2__)
        _mm_pause();
#endif
        if (++polls % 64 == 0 &&
            std::chrono::steady_clock::now() - t0 > std::chrono::microseconds(kCallerWaitMicros))
          break;
      }
    }
    std::unique_lock<std::mutex> l(mu_);
    done_.wait(l, [&] { return pending_.load(std::memory_order_acquire) == 0; });
    job_ = nullptr;
    if (mine.empty()) mine = error_;
    if (!mine.empty()) throw std::runtime_error(mine);
  }

 private:
  // FTZ/DAZ for a scope (a worker's setting, for a block the caller computes in its place).
  struct FlushedDenormals {
#if defined(__SSE__)
    unsigned csr = _mm_getcsr();
    FlushedDenormals() { _mm_setcsr(csr | 0x8040); }
    ~FlushedDenormals() { _mm_setcsr(csr); }
#endif
  };

  static std::string guarded(const std::function<void(int)>& fn, int i) {
    try {
      fn(i);
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  }

  // Part i of job `gen` goes to whoever claims it first (claims only grow: a worker holding an
  // older job can never take a part of a newer one).
  bool claim(int i, uint64_t gen) {
    uint64_t cur = claimed_[i].load(std::memory_order_acquire);
    while (cur < gen)
      if (claimed_[i].compare_exchange_weak(cur, gen, std::memory_order_acq_rel)) return true;
    return false;
  }

  void work(int index) {
    flush_denormals();
    omp_set_num_threads(1);
    uint64_t seen = 0;
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      wake_.wait(l, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      if (index >= parts_ || !claim(index, seen)) continue;
      const std::function<void(int)>* fn = job_;
      l.unlock();
      const std::string err = guarded(*fn, index);
      l.lock();
      if (!err.empty() && error_.empty()) error_ = err;
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) done_.notify_one();
    }
  }

  const int threads_;
  std::unique_ptr<std::atomic<uint64_t>[]> claimed_;  // per part: the last job that claimed it
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_, done_;
  const std::function<void(int)>* job_ = nullptr;
  int parts_ = 0;
  std::atomic<int> pending_{0};  // parts >= 1 not finished yet
  uint64_t generation_ = 0;
  bool stop_ = false;
  std::string error_;
};

std::mutex pool_mu;  // one split call at a time; also guards the pool's (re)creation
Pool* pool = nullptr;  // never destroyed at exit: a static destructor could run while a thread still calls

}  // namespace

bool onednn_built() { return true; }

std::string onednn_describe() {
  const dnnl_version_t* v = dnnl_version();
  const char* runtime = v->cpu_runtime == DNNL_RUNTIME_OMP    ? "OpenMP"
                        : v->cpu_runtime == DNNL_RUNTIME_TBB  ? "TBB"
                        : v->cpu_runtime == DNNL_RUNTIME_SEQ  ? "sequential"
                        : v->cpu_runtime == DNNL_RUNTIME_THREADPOOL ? "threadpool"
                                                                   : "other";
  std::string isa;
  switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_avx512_core_amx: isa = "avx512_core_amx"; break;
    case dnnl_cpu_isa_avx512_core_bf16: isa = "avx512_core_bf16"; break;
    case dnnl_cpu_isa_avx512_core_vnni: isa = "avx512_core_vnni"; break;
    case dnnl_cpu_isa_avx512_core: isa = "avx512_core"; break;
    case dnnl_cpu_isa_avx2_vnni: isa = "avx2_vnni"; break;
    case dnnl_cpu_isa_avx2: isa = "avx2"; break;
    case dnnl_cpu_isa_avx: isa = "avx"; break;
    case dnnl_cpu_isa_sse41: isa = "sse41"; break;
    default: isa = "isa " + std::to_string(static_cast<int>(dnnl_get_effective_cpu_isa())); break;
  }
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch) +
         " (CPU runtime " + runtime + ", run at 1 OpenMP thread per block, " + isa + ")";
}

int onednn_parts(int64_t m, int64_t n, int64_t k, int threads) {
  if (threads <= 1 || m <= 0 || n <= 0) return 1;
  const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  int64_t parts = std::min<int64_t>(threads, static_cast<int64_t>(flops / kMinFlopsPerPart));
  // The split dimension (the longer of C's two) must give every block at least one grain.
  const int64_t along = n >= m ? (n + kColumnGrain - 1) / kColumnGrain : m;
  parts = std::min(parts, along);
  return static_cast<int>(std::max<int64_t>(parts, 1));
}

void onednn_sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                  const float* b, int64_t ldb, float beta, float* c, int64_t ldc, int threads) {
  const int parts = onednn_parts(m, n, k, threads);
  if (parts <= 1) {
    sgemm_one(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  // Blocks of C along the longer dimension, K never split: each element is one oneDNN sum.
  // The blocks capture by value: they outlive the scopes of this function's branches.
  std::function<void(int)> block;
  if (n >= m) {
    const int64_t grains = (n + kColumnGrain - 1) / kColumnGrain;
    block = [=](int i) {
      const int64_t j0 = std::min(n, grains * i / parts * kColumnGrain);
      const int64_t j1 = std::min(n, grains * (i + 1) / parts * kColumnGrain);
      if (j1 <= j0) return;
      // op(B) columns j0..j1: B + j0 (not transposed) or B + j0·ldb (transposed)
      sgemm_one(ta, tb, m, j1 - j0, k, alpha, a, lda, tb ? b + j0 * ldb : b + j0, ldb, beta, c + j0, ldc);
    };
  } else {
    block = [=](int i) {
      const int64_t i0 = m * i / parts, i1 = m * (i + 1) / parts;
      if (i1 <= i0) return;
      // op(A) rows i0..i1: A + i0·lda (not transposed) or A + i0 (transposed)
      sgemm_one(ta, tb, i1 - i0, n, k, alpha, ta ? a + i0 : a + i0 * lda, lda, b, ldb, beta, c + i0 * ldc, ldc);
    };
  }
  onednn_run_parts(parts, threads, block);
}

void onednn_run_parts(int parts, int threads, const std::function<void(int)>& fn) {
  if (parts <= 1) {
    fn(0);
    return;
  }
  std::lock_guard<std::mutex> g(pool_mu);
  if (!pool || pool->threads() != threads) {
    delete pool;
    pool = nullptr;
    pool = new Pool(threads);
  }
  split_blocks.fetch_add(parts - 1, std::memory_order_relaxed);
  pool->run(parts, fn);
}

int64_t onednn_blocks_split() { return split_blocks.load(std::memory_order_relaxed); }
int64_t onednn_blocks_stolen() { return stolen_blocks.load(std::memory_order_relaxed); }

int onednn_pool_threads() {
  std::lock_guard<std::mutex> g(pool_mu);
  return pool ? pool->threads() : 1;
}

int onednn_last_omp_threads() { return last_omp_threads; }

}  // namespace reel::blas::detail

#else  // a build without oneDNN: blas.cpp never routes a call here

#include <stdexcept>

namespace reel::blas::detail {

bool onednn_built() { return false; }
std::string onednn_describe() { return ""; }
void onednn_sgemm(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t, float,
                  float*, int64_t, int) {
  throw std::logic_error("reel was built without oneDNN (REEL_WITH_ONEDNN=OFF)");
}
int onednn_parts(int64_t, int64_t, int64_t, int) { return 1; }
int onednn_pool_threads() { return 0; }
int onednn_last_omp_threads() { return 0; }
int64_t onednn_blocks_split() { return 0; }
int64_t onednn_blocks_stolen() { return 0; }
void onednn_run_parts(int, int, const std::function<void(int)>& fn) { fn(0); }
OmpOneThread::OmpOneThread() : before_(1) {}
OmpOneThread::~OmpOneThread() = default;

}  // namespace reel::blas::detail

#endif
