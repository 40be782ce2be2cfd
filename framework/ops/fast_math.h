// Vectorisable float approximations of tanh and exp for the elementwise loops (double always
// uses <cmath>). Written without branches or library calls so that a loop over them compiles to
// SIMD code; each is within a few float ulps of the double result (tests/test_fast_math.cpp).
#pragma once

#include <cstdint>
#include <cstring>

namespace reel::detail {

/// tanh for float as a rational approximation (|x| clamped to 7.905, where tanh is 1 in float):
/// max relative error 4e-7 against tanh in double over [-12, 12]. NaN stays NaN.
inline float tanh_value(float x) {
  const float c = 7.90531110763549805f;
  x = x < -c ? -c : x;  // clamp written so the loop vectorises (maxps/minps)
  x = x > c ? c : x;
  const float x2 = x * x;
  float p = -2.76076847742355e-16f;
  p = p * x2 + 2.00018790482477e-13f;
  p = p * x2 + -8.60467152213735e-11f;
  p = p * x2 + 5.12229709037114e-08f;
  p = p * x2 + 1.48572235717979e-05f;
  p = p * x2 + 6.37261928875436e-04f;
  p = p * x2 + 4.89352455891786e-03f;
  float q = 1.19825839466702e-06f;
  q = q * x2 + 1.18534705686654e-04f;
  q = q * x2 + 2.26843463243900e-03f;
  q = q * x2 + 4.89352518554385e-03f;
  return x * p / q;
}

/// exp for float (Cephes' range reduction and polynomial): x = n·ln2 + r, |r| ≤ ln2/2, exp(r) by
/// a degree-6 polynomial, 2^n built in the exponent bits. x is clamped to [-87, 88], so the
/// result is a normal float in [1.6e-38, 1.7e38] (no Inf, no denormal); max relative error
/// 2e-7 against exp in double inside that range. NaN stays NaN.
inline float exp_value(float x) {
  const float lo = -87.0f, hi = 88.0f;
  x = x < lo ? lo : x;
  x = x > hi ? hi : x;
  // n = round(x / ln2) with the 1.5·2^23 trick (round to nearest in the FPU; no floor call).
  const float magic = 12582912.0f;
  const float t = x * 1.44269504088896341f + magic;
  const float n = t - magic;
  float r = x - n * 0.693359375f;  // ln2 in two parts: the first exact in float
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  // n as an integer from t's low mantissa bits, in unsigned arithmetic (no undefined behaviour
  // for NaN, whose scale is then garbage and whose result stays NaN through p).
  uint32_t tbits;
  std::memcpy(&tbits, &t, sizeof tbits);
  const uint32_t bits = (tbits - 0x4B400000u + 127u) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

/// The logistic function 1 / (1 + exp(-x)) on exp_value: a few ulps of the double result, exactly
/// in (0, 1] for finite x (0 only through denormal flushing), NaN stays NaN.
inline float sigmoid_value(float x) { return 1.0f / (1.0f + exp_value(-x)); }

}  // namespace reel::detail
