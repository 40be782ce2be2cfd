#pragma once
// Helpers shared by the tape and RNN tests: seeded random vectors and an RNN configuration.
#include <cstdint>
#include <string>
#include <vector>

#include "framework/rng.h"
#include "models/vanilla_rnn.h"

namespace reel::testing {

template <class T>
std::vector<T> randv(size_t n, uint64_t seed) {
  Rng r(seed);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(r.normal());
  return v;
}

inline RNNConfig config(int64_t in, int64_t hid, int64_t out = 0, const std::string& act = "tanh") {
  RNNConfig c;
  c.input_dim = in;
  c.hidden_dim = hid;
  c.output_dim = out;
  c.activation = act;
  return c;
}

}  // namespace reel::testing
