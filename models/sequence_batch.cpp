#include "models/sequence_batch.h"

#include "framework/sampling.h"

#include <algorithm>

#include "framework/ops.h"

namespace reel {

BatchMode parse_batch_mode(const std::string& name) {
  if (name == "packed") return BatchMode::Packed;
  if (name == "padded") return BatchMode::Padded;
  throw UsageError("unknown batch mode '" + name + "' (expected 'packed' or 'padded')");
}

template <class T>
LaidOutInput<T> lay_out(Tape<T>& tape, const SequenceBatch<T>& batch, BatchMode mode, const Embedding<T>* embed) {
  batch.validate("lay_out");
  if (batch.features == 0 && !embed) throw UsageError("lay_out: token ids need an embedding");
  const int64_t B = batch.batch, Tn = batch.max_len, F = batch.features;
  LaidOutInput<T> out;
  if (mode == BatchMode::Padded) {
    out.rows.resize(static_cast<size_t>(B * Tn));
    for (int64_t i = 0; i < B * Tn; ++i) out.rows[static_cast<size_t>(i)] = i;
    out.x = F > 0 ? tape.input(batch.values, Shape{B, Tn, F}) : embed->forward(tape, batch.ids, Shape{B, Tn});
    return out;
  }
  const PackedLayout& packed = batch.packed();
  out.pack = packed.info;
  out.rows = packed.rows;
  const int64_t n = static_cast<int64_t>(out.rows.size());
  if (F > 0) {
    out.x = tape.zeros(Shape{n, F});
    T* dst = out.x.data();
    for (int64_t k = 0; k < n; ++k)
      std::copy_n(batch.values.data() + out.rows[static_cast<size_t>(k)] * F, F, dst + k * F);
  } else {
    std::vector<int64_t> ids(static_cast<size_t>(n));
    for (int64_t k = 0; k < n; ++k) ids[static_cast<size_t>(k)] = batch.ids[static_cast<size_t>(out.rows[static_cast<size_t>(k)])];
    out.x = embed->forward(tape, ids, Shape{n});
  }
  return out;
}

void check_token_ids(const char* who, const std::vector<int64_t>& ids, int64_t vocab, const char* what) {
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] < 0 || ids[i] >= vocab)
      throw UsageError(std::string(who) + ": " + what + " id " + std::to_string(ids[i]) + " at position " + std::to_string(i) +
                       " outside [0, " + std::to_string(vocab) + ")");
}

template <class T>
void check_token_batch(const char* who, const SequenceBatch<T>& b, int64_t vocab, const char* what) {
  if (b.features != 0)
    throw UsageError(std::string(who) + ": the " + what + " batch holds " + std::to_string(b.features) +
                     " features a step, expected token ids");
  for (size_t i = 0; i < b.lengths.size(); ++i)
    if (b.lengths[i] == 0)
      throw UsageError(std::string(who) + ": " + what + " " + std::to_string(i) + " has length 0 (an empty " + what +
                       " cannot be encoded)");
  b.validate(who);
  check_token_ids(who, b.ids, vocab, what);
}

template <class T>
std::vector<int64_t> argmax_rows(const Var<T>& logits) {
  return argmax_rows(logits.data(), logits.shape().rows(), logits.shape().last());
}

template LaidOutInput<float> lay_out(Tape<float>&, const SequenceBatch<float>&, BatchMode, const Embedding<float>*);
template LaidOutInput<double> lay_out(Tape<double>&, const SequenceBatch<double>&, BatchMode, const Embedding<double>*);
template void check_token_batch(const char*, const SequenceBatch<float>&, int64_t, const char*);
template void check_token_batch(const char*, const SequenceBatch<double>&, int64_t, const char*);
template std::vector<int64_t> argmax_rows(const Var<float>&);
template std::vector<int64_t> argmax_rows(const Var<double>&);

}  // namespace reel
