#pragma once
/// \file
/// An explicit, seeded random generator: no global RNG state anywhere in reel. xoshiro256** for
/// uniforms, Box–Muller for normals: the same seed gives the same numbers on every platform, and the
/// whole state (4 words + a cached normal) can be saved in a checkpoint and restored.
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

namespace reel {

/// A seeded xoshiro256** stream with Box–Muller normals (see the file description). Copyable:
/// a copy continues the same stream independently.
class Rng {
 public:
  /// A stream seeded with seed.
  explicit Rng(uint64_t seed = 0) { reseed(seed); }

  /// Restarts the stream from seed (the four words come from splitmix64 of the seed).
  void reseed(uint64_t seed) {
    uint64_t z = seed;
    for (auto& w : s_) w = splitmix(z);
    has_spare_ = false;
    spare_ = 0;
  }
  /// The next 64 random bits.
  uint64_t next_u64() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  double uniform() { return static_cast<double>(next_u64() >> 11) * (1.0 / 9007199254740992.0); }  ///< [0,1)
  /// Uniform integer in [0, n), without modulo bias.
  uint64_t below(uint64_t n) {
    const uint64_t limit = ~uint64_t{0} - (~uint64_t{0} % n);
    uint64_t x;
    do x = next_u64(); while (x >= limit);
    return x % n;
  }
  /// A standard normal draw, N(0, 1); every other call returns the spare from the previous pair.
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1;
    do u1 = uniform(); while (u1 <= 0.0);
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    constexpr double kTwoPi = 6.283185307179586;
    spare_ = r * std::sin(kTwoPi * u2);
    has_spare_ = true;
    return r * std::cos(kTwoPi * u2);
  }
  /// Fisher–Yates with this generator.
  template <class V>
  void shuffle(V& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }

  /// Full state, for checkpoints: 4 words, the spare normal's bits, and whether it is set.
  std::array<uint64_t, 6> state() const {
    uint64_t bits;
    static_assert(sizeof(bits) == sizeof(spare_));
    std::memcpy(&bits, &spare_, sizeof(bits));
    return {s_[0], s_[1], s_[2], s_[3], bits, has_spare_ ? 1u : 0u};
  }
  /// Restores a state() exactly: the next draws are those that followed it.
  void set_state(const std::array<uint64_t, 6>& st) {
    for (int i = 0; i < 4; ++i) s_[static_cast<size_t>(i)] = st[static_cast<size_t>(i)];
    std::memcpy(&spare_, &st[4], sizeof(spare_));
    has_spare_ = st[5] != 0;
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t splitmix(uint64_t& z) {
    uint64_t r = (z += 0x9E3779B97F4A7C15ull);
    r = (r ^ (r >> 30)) * 0xBF58476D1CE4E5B9ull;
    r = (r ^ (r >> 27)) * 0x94D049BB133111EBull;
    return r ^ (r >> 31);
  }
  std::array<uint64_t, 4> s_{};
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace reel
