#include "models/adding_task.h"

#include <algorithm>

#include "framework/ops.h"

namespace reel::memory {

template <class T>
AddingBatch<T> make_adding_batch(int64_t batch, int64_t steps, Rng& rng) {
  if (batch < 1 || steps < 2) throw UsageError("make_adding_batch: needs batch >= 1 and steps >= 2");
  AddingBatch<T> b;
  b.batch = batch;
  b.steps = steps;
  b.x = std::make_shared<std::vector<T>>(static_cast<size_t>(batch * steps * 2), T(0));
  b.target.resize(static_cast<size_t>(batch));
  const int64_t half = steps / 2;
  for (int64_t i = 0; i < batch; ++i) {
    T* row = b.x->data() + i * steps * 2;
    for (int64_t t = 0; t < steps; ++t) row[2 * t] = static_cast<T>(rng.uniform());
    const auto first = static_cast<int64_t>(rng.below(static_cast<uint64_t>(half)));
    const auto second = half + static_cast<int64_t>(rng.below(static_cast<uint64_t>(steps - half)));
    row[2 * first + 1] = T(1);
    row[2 * second + 1] = T(1);
    b.target[static_cast<size_t>(i)] = row[2 * first] + row[2 * second];
  }
  return b;
}

namespace {
RunnerConfig adding_rnn(int64_t hidden, const std::string& activation, const std::string& cell) {
  RunnerConfig c;
  c.cell = cell;
  c.input_dim = 2;
  c.hidden_dim = hidden;
  c.activation = activation;
  return c;
}
}  // namespace

template <class T>
AddingModel<T>::AddingModel(ParameterStore<T>& store, int64_t hidden, const std::string& activation, Rng& rng,
                            bool identity_init, const std::string& cell)
    : rnn(store, adding_rnn(hidden, activation, cell), rng, "rnn"), head(store, hidden, 1, rng, "head") {
  if (identity_init) {
    if (cell != "rnn") throw UsageError("AddingModel: identity_init is the vanilla cell's IRNN recipe, not for '" + cell + "'");
    Parameter<T>& W_hh = store.at("rnn.W_hh");
    std::fill(W_hh.value.begin(), W_hh.value.end(), T(0));
    for (int64_t i = 0; i < hidden; ++i) W_hh.value[static_cast<size_t>(i * hidden + i)] = T(1);
    for (T& w : store.at("rnn.W_xh").value) w *= T(0.1);
  }
}

template <class T>
SequenceProblem<T> AddingModel<T>::problem(const AddingBatch<T>& batch) const {
  SequenceProblem<T> p;
  p.model = &rnn.stepwise();
  p.batch_sizes.assign(static_cast<size_t>(batch.steps), batch.batch);
  p.input = padded_dense_input<T>(batch.x, batch.batch, batch.steps, 2);
  const Linear<T>* h = &head;
  p.final_loss = [h, target = batch.target](Tape<T>& tape, const Var<T>& finals) {
    Var<T> y = h->forward(tape, finals);
    return mse(y, tape.input(target, Shape{static_cast<int64_t>(target.size()), 1}));
  };
  return p;
}

template <class T>
Var<T> AddingModel<T>::stock_loss(Tape<T>& tape, const AddingBatch<T>& batch) const {
  Var<T> x = tape.input(*batch.x, Shape{batch.batch, batch.steps, 2});
  Var<T> y = head.forward(tape, rnn.forward(tape, RunnerInput<T>::padded(x), {}, false).final_hidden());
  return mse(y, tape.input(batch.target, Shape{batch.batch, 1}));
}

template struct AddingBatch<float>;
template struct AddingBatch<double>;
template AddingBatch<float> make_adding_batch(int64_t, int64_t, Rng&);
template AddingBatch<double> make_adding_batch(int64_t, int64_t, Rng&);
template class AddingModel<float>;
template class AddingModel<double>;

}  // namespace reel::memory
