#pragma once
// The machine's single-thread FMA peak, measured: a throughput loop of independent fused
// multiply-adds on AVX-512 (16 floats per instruction) and AVX2 (8), 16 chains each, so that
// latency (4 cycles) never limits it. GFLOP/s = 2 flops per lane per FMA. The bench programs
// report their GFLOP/s against the larger of the two.
#include <chrono>
#include <cstdint>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace reel::bench {

struct FmaPeak {
  double avx512_gflops = 0;  // 0 when the CPU has no AVX-512
  double avx2_gflops = 0;    // 0 when the CPU has no AVX2+FMA
  double gflops() const { return avx512_gflops > avx2_gflops ? avx512_gflops : avx2_gflops; }
};

#if defined(__x86_64__)
__attribute__((target("avx512f"))) inline float fma_loop_avx512(int64_t iters) {
  __m512 acc[16];
  for (int j = 0; j < 16; ++j) acc[j] = _mm512_set1_ps(0.01f * static_cast<float>(j));
  const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-3f);
  for (int64_t i = 0; i < iters; ++i)
    for (int j = 0; j < 16; ++j) acc[j] = _mm512_fmadd_ps(acc[j], x, y);
  __m512 s = acc[0];
  for (int j = 1; j < 16; ++j) s = _mm512_add_ps(s, acc[j]);
  return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"))) inline float fma_loop_avx2(int64_t iters) {
  __m256 acc[16];
  for (int j = 0; j < 16; ++j) acc[j] = _mm256_set1_ps(0.01f * static_cast<float>(j));
  const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-3f);
  for (int64_t i = 0; i < iters; ++i)
    for (int j = 0; j < 16; ++j) acc[j] = _mm256_fmadd_ps(acc[j], x, y);
  __m256 s = acc[0];
  for (int j = 1; j < 16; ++j) s = _mm256_add_ps(s, acc[j]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}
#endif

// Best of `rounds` timings of ~`ms` milliseconds each, in the calling thread.
inline FmaPeak measure_fma_peak(int rounds = 5, double ms = 40) {
  FmaPeak p;
#if defined(__x86_64__)
  using Clock = std::chrono::steady_clock;
  volatile float sink = 0;
  auto best = [&](auto loop, double flops_per_iter) {
    int64_t iters = 1 << 16;
    for (;;) {  // calibrate to ~ms
      const auto t0 = Clock::now();
      sink = sink + loop(iters);
      const double took = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      if (took > ms / 4) {
        iters = static_cast<int64_t>(static_cast<double>(iters) * ms / took) + 1;
        break;
      }
      iters *= 4;
    }
    double g = 0;
    for (int r = 0; r < rounds; ++r) {
      const auto t0 = Clock::now();
      sink = sink + loop(iters);
      const double s = std::chrono::duration<double>(Clock::now() - t0).count();
      const double v = flops_per_iter * static_cast<double>(iters) / s * 1e-9;
      if (v > g) g = v;
    }
    return g;
  };
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) p.avx512_gflops = best(fma_loop_avx512, 16.0 * 16.0 * 2.0);
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) p.avx2_gflops = best(fma_loop_avx2, 16.0 * 8.0 * 2.0);
  (void)sink;
#endif
  return p;
}

}  // namespace reel::bench
