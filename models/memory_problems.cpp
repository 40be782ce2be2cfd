#include "models/memory_problems.h"

#include <memory>
#include <string>

#include "data/batching.h"
#include "framework/ops.h"

namespace reel::memory {
namespace {

// The RNN and packed input of a batch; rows[k] = b*max_len + t for packed row k.
template <class T>
SequenceProblem<T> packed_base(SequenceModel<T>& model, const SequenceBatch<T>& batch, PackInfo& info,
                               std::vector<int64_t>& rows) {
  batch.validate("memory::problem");
  info = batch.packed().info;
  rows = batch.packed().rows;
  SequenceProblem<T> p;
  p.model = &model.runner().stepwise();
  p.batch_sizes = info.batch_sizes;
  if (batch.features > 0) {
    auto packed = std::make_shared<std::vector<T>>();
    packed->reserve(rows.size() * static_cast<size_t>(batch.features));
    for (int64_t r : rows)
      packed->insert(packed->end(), batch.values.begin() + r * batch.features,
                     batch.values.begin() + (r + 1) * batch.features);
    p.input = packed_dense_input<T>(packed, batch.features, info.batch_sizes);
  } else {
    auto ids = std::make_shared<std::vector<int64_t>>();
    ids->reserve(rows.size());
    for (int64_t r : rows) ids->push_back(batch.ids[static_cast<size_t>(r)]);
    p.input = packed_embedding_input<T>(model.parameters().at("embed.weight"), ids, info.batch_sizes);
    p.input_grad = true;
  }
  return p;
}

}  // namespace

template <class T>
SequenceProblem<T> classifier_problem(SequenceClassifier<T>& model, const SequenceBatch<T>& batch,
                                      const std::vector<int64_t>& labels) {
  if (static_cast<int64_t>(labels.size()) != batch.batch)
    throw ShapeError("classifier_problem: " + std::to_string(labels.size()) + " labels for a batch of " +
                     std::to_string(batch.batch));
  PackInfo info;
  std::vector<int64_t> rows;
  SequenceProblem<T> p = packed_base(model, batch, info, rows);
  Parameter<T>* W = &model.parameters().at("head.W");
  Parameter<T>* b = &model.parameters().at("head.b");
  p.final_loss = [W, b, unsorted = info.unsorted_indices, labels](Tape<T>& tape, const Var<T>& finals) {
    Var<T> h = gather_rows(finals, unsorted);  // back to the batch's order
    return cross_entropy(bias_add(matmul(h, tape.param(*W)), tape.param(*b)), labels);
  };
  return p;
}

template <class T>
SequenceProblem<T> tagger_problem(SequenceTagger<T>& model, const SequenceBatch<T>& batch,
                                  const std::vector<int64_t>& tags) {
  if (static_cast<int64_t>(tags.size()) < batch.batch * batch.max_len)
    throw ShapeError("tagger_problem: tags hold " + std::to_string(tags.size()) + " entries, the batch needs " +
                     std::to_string(batch.batch * batch.max_len));
  PackInfo info;
  std::vector<int64_t> rows;
  SequenceProblem<T> p = packed_base(model, batch, info, rows);
  // targets per step, in packed order
  auto targets = std::make_shared<std::vector<std::vector<int64_t>>>(info.batch_sizes.size());
  size_t k = 0;
  for (size_t t = 0; t < info.batch_sizes.size(); ++t)
    for (int64_t i = 0; i < info.batch_sizes[t]; ++i) (*targets)[t].push_back(tags[static_cast<size_t>(rows[k++])]);
  Parameter<T>* W = &model.parameters().at("head.W");
  Parameter<T>* b = &model.parameters().at("head.b");
  p.step_loss = [W, b, targets](Tape<T>& tape, int64_t t, const Var<T>& h) {
    return cross_entropy(bias_add(matmul(h, tape.param(*W)), tape.param(*b)), (*targets)[static_cast<size_t>(t)]);
  };
  p.step_counts = info.batch_sizes;
  return p;
}

template SequenceProblem<float> classifier_problem(SequenceClassifier<float>&, const SequenceBatch<float>&,
                                                   const std::vector<int64_t>&);
template SequenceProblem<double> classifier_problem(SequenceClassifier<double>&, const SequenceBatch<double>&,
                                                    const std::vector<int64_t>&);
template SequenceProblem<float> tagger_problem(SequenceTagger<float>&, const SequenceBatch<float>&,
                                               const std::vector<int64_t>&);
template SequenceProblem<double> tagger_problem(SequenceTagger<double>&, const SequenceBatch<double>&,
                                                const std::vector<int64_t>&);

}  // namespace reel::memory
