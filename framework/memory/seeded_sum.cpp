#include "framework/memory/seeded_sum.h"

#include <string>

namespace reel::memory {
namespace {

// aux: {terms, seeds, weights pointer}; extra: the seeds' gradient pointers.
template <class T>
void seeded_sum_backward(Tape<T>& tape, const Record<T>& r) {
  const T g = tape.node(r.out).grad[0];
  const auto n_terms = static_cast<int32_t>(r.aux[0]);
  const auto* w = reinterpret_cast<const T*>(r.aux[2]);
  for (int32_t i = 0; i < n_terms; ++i)
    if (T* dx = tape.grad(r.in[i])) dx[0] += w[i] * g;
  const auto* c = static_cast<const T* const*>(r.extra);
  for (int32_t j = n_terms; j < r.n_in; ++j) {
    T* dv = tape.grad(r.in[j]);
    if (!dv) continue;
    const T* cj = c[j - n_terms];
    const int64_t n = tape.node(r.in[j]).shape.size();
    for (int64_t k = 0; k < n; ++k) dv[k] += cj[k] * g;
  }
}

}  // namespace

template <class T>
Var<T> seeded_sum(const std::vector<Var<T>>& terms, const std::vector<T>& weights,
                  const std::vector<Seed<T>>& seeds) {
  if (terms.size() != weights.size())
    throw UsageError("seeded_sum: " + std::to_string(terms.size()) + " terms but " +
                     std::to_string(weights.size()) + " weights");
  if (terms.empty() && seeds.empty()) throw UsageError("seeded_sum: nothing to sum");
  Tape<T>& tape = terms.empty() ? seeds[0].v.tape() : terms[0].tape();
  std::vector<int32_t> ids;
  ids.reserve(terms.size() + seeds.size());
  T acc = T(0);
  for (size_t i = 0; i < terms.size(); ++i) {
    tape.check(terms[i], "seeded_sum");
    if (terms[i].size() != 1)
      throw ShapeError("seeded_sum: term " + std::to_string(i) + " must hold one element, got " +
                       terms[i].shape().str());
    acc += weights[i] * terms[i].data()[0];
    ids.push_back(terms[i].id());
  }
  for (const Seed<T>& s : seeds) {
    tape.check(s.v, "seeded_sum");
    if (!s.grad) throw UsageError("seeded_sum: a seed has no gradient values");
    const T* v = s.v.data();
    for (int64_t k = 0; k < s.v.size(); ++k) acc += v[k] * s.grad[k];
    ids.push_back(s.v.id());
  }
  T* w = tape.scratch(weights.size());
  for (size_t i = 0; i < weights.size(); ++i) w[i] = weights[i];
  auto* c = reinterpret_cast<const T**>(tape.ints(seeds.size()));
  static_assert(sizeof(const T*) == sizeof(int64_t), "seed pointers are kept in the int arena");
  for (size_t j = 0; j < seeds.size(); ++j) c[j] = seeds[j].grad;
  Var<T> y = tape.make(Shape{}, OpKind::Sum, false);
  y.data()[0] = acc;
  if (Record<T>* r = tape.record_n(OpKind::Sum, &seeded_sum_backward<T>, y, ids.data(),
                                   static_cast<int32_t>(ids.size()), weights.size() * sizeof(T))) {
    r->aux[0] = static_cast<int64_t>(terms.size());
    r->aux[1] = static_cast<int64_t>(seeds.size());
    r->aux[2] = reinterpret_cast<int64_t>(w);
    r->extra = c;
  }
  return y;
}

template Var<float> seeded_sum(const std::vector<Var<float>>&, const std::vector<float>&,
                               const std::vector<Seed<float>>&);
template Var<double> seeded_sum(const std::vector<Var<double>>&, const std::vector<double>&,
                                const std::vector<Seed<double>>&);

}  // namespace reel::memory
