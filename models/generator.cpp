#include "models/generator.h"

#include "framework/ops.h"
#include "models/sequence_batch.h"
#include "models/sequence_models.h"
#include "models/shifted_targets.h"
#include "models/vanilla_cell.h"

namespace reel {

RunnerConfig GeneratorConfig::runner() const {
  RunnerConfig rc;
  rc.cell = cell;
  rc.input_dim = embed_dim;
  rc.hidden_dim = hidden_dim;
  rc.num_layers = num_layers;
  rc.activation = activation;
  return rc;
}

void GeneratorConfig::validate() const {
  const std::pair<const char*, int64_t> sizes[] = {
      {"vocab", vocab}, {"context_dim", context_dim}, {"embed_dim", embed_dim}, {"hidden_dim", hidden_dim}};
  for (const auto& [name, v] : sizes)
    if (v < 1 || v > kMaxModelDim)
      throw UsageError(std::string("GeneratorConfig: ") + name + " = " + std::to_string(v) + " outside 1.." +
                       std::to_string(kMaxModelDim));
  if (num_categories < 0 || num_categories > kMaxModelDim)
    throw UsageError("GeneratorConfig: num_categories = " + std::to_string(num_categories) + " outside 0.." +
                     std::to_string(kMaxModelDim) + " (0: the context is a feature vector)");
  for (const auto& [name, v] : {std::pair<const char*, int64_t>{"bos", bos}, {"eos", eos}})
    if (v < 0 || v >= vocab)
      throw UsageError(std::string("GeneratorConfig: ") + name + " = " + std::to_string(v) + " is not a symbol id (vocab " +
                       std::to_string(vocab) + ")");
  if (bos == eos) throw UsageError("GeneratorConfig: bos and eos are both " + std::to_string(bos) + ", expected two ids");
  if (num_layers < 1 || num_layers > 64)
    throw UsageError("GeneratorConfig: num_layers = " + std::to_string(num_layers) + " outside 1..64");
  parse_activation(activation);
  runner().validate();
}

template <class T>
Generator<T>::Generator(ParameterStore<T>& store, const GeneratorConfig& config, Rng& rng) : store_(store), config_(config) {
  config_.validate();
  const GeneratorConfig& c = config_;
  if (c.num_categories > 0) category_ = std::make_unique<Embedding<T>>(store, c.num_categories, c.context_dim, rng, "category");
  for (int64_t l = 0; l < c.num_layers; ++l)
    init_.push_back(std::make_unique<Linear<T>>(store, c.context_dim, c.hidden_dim, rng, "init.l" + std::to_string(l)));
  embed_ = std::make_unique<Embedding<T>>(store, c.vocab, c.embed_dim, rng, "embed");
  rnn_ = std::make_unique<SequenceRunner<T>>(store, c.runner(), rng, "rnn");
  head_ = std::make_unique<Linear<T>>(store, c.hidden_dim, c.vocab, rng, "head");
}

template <class T>
Generator<T>::~Generator() = default;

template <class T>
Var<T> Generator<T>::category_context(Tape<T>& tape, const std::vector<int64_t>& categories) const {
  if (!category_) throw UsageError("Generator::category_context: this generator reads feature contexts (num_categories = 0)");
  if (categories.empty()) throw UsageError("Generator::category_context: no categories");
  for (size_t i = 0; i < categories.size(); ++i)
    if (categories[i] < 0 || categories[i] >= config_.num_categories)
      throw UsageError("Generator::category_context: category " + std::to_string(categories[i]) + " at position " +
                       std::to_string(i) + " outside [0, " + std::to_string(config_.num_categories) + ")");
  return category_->forward(tape, categories, Shape{static_cast<int64_t>(categories.size())});
}

template <class T>
std::vector<CellState<T>> Generator<T>::initial_state(Tape<T>& tape, const Var<T>& context) const {
  const Shape s = context.shape();
  if (s.rank != 2 || s[1] != config_.context_dim)
    throw ShapeError("Generator: the context is " + s.str() + ", expected (batch, " + std::to_string(config_.context_dim) + ")");
  std::vector<CellState<T>> init;
  for (const auto& lin : init_) {
    CellState<T> st{tanh(lin->forward(tape, context))};
    for (int p = 1; p < rnn_->state_size(); ++p) st.push_back(tape.zeros(Shape{s[0], config_.hidden_dim}));
    init.push_back(st);
  }
  return init;
}

template <class T>
Var<T> Generator<T>::logits(Tape<T>& tape, const Var<T>& context, const SequenceBatch<T>& seqs) const {
  return logits(tape, context, shifted(context, seqs));
}

template <class T>
ShiftedTargets Generator<T>::shifted(const Var<T>& context, const SequenceBatch<T>& seqs) const {
  check_token_batch("Generator", seqs, config_.vocab, "sequence");
  if (context.shape().rank != 2 || context.shape()[0] != seqs.batch)
    throw ShapeError("Generator: a context of " + context.shape().str() + " for " + std::to_string(seqs.batch) + " sequences");
  return shift_targets(seqs, config_.bos, config_.eos);
}

template <class T>
Var<T> Generator<T>::logits(Tape<T>& tape, const Var<T>& context, const ShiftedTargets& s) const {
  const int64_t batch = static_cast<int64_t>(s.lengths.size());
  const Var<T> x = embed_->forward(tape, s.input, Shape{batch, s.steps});
  const Var<T> h = rnn_->forward(tape, RunnerInput<T>::padded(x, s.lengths), initial_state(tape, context)).output;
  return head_->forward(tape, h);
}

template <class T>
Var<T> Generator<T>::loss(Tape<T>& tape, const Var<T>& context, const SequenceBatch<T>& seqs) const {
  const ShiftedTargets s = shifted(context, seqs);
  const Var<T> y = logits(tape, context, s);
  return cross_entropy(reshape(y, Shape{seqs.batch * s.steps, config_.vocab}), s.output, shifted_mask<T>(s));
}

template <class T>
Generated Generator<T>::generate(Tape<T>& tape, const Var<T>& context, const GenerateOptions& o, Rng& rng) const {
  if (o.max_len < 1) throw UsageError("Generator::generate: max_len = " + std::to_string(o.max_len) + ", expected >= 1");
  NoGradGuard<T> no_grad(tape);
  std::vector<CellState<T>> state = initial_state(tape, context);
  const int64_t B = context.shape()[0], V = config_.vocab;
  Generated g;
  g.tokens.assign(static_cast<size_t>(B), {});
  g.ended.assign(static_cast<size_t>(B), false);
  std::vector<int64_t> alive(static_cast<size_t>(B)), prev(static_cast<size_t>(B), config_.bos);
  for (int64_t b = 0; b < B; ++b) alive[static_cast<size_t>(b)] = b;
  while (!alive.empty()) {
    const int64_t n = static_cast<int64_t>(alive.size());
    const Var<T> x = embed_->forward(tape, prev, Shape{n, 1});
    RunnerOutput<T> out = rnn_->forward(tape, RunnerInput<T>::padded(x), state);
    const Var<T> y = head_->forward(tape, out.output);  // (n, 1, V)
    const std::vector<int64_t> next = sample_rows(y.data(), n, V, rng, o.sampling);
    std::vector<int64_t> keep, still, next_prev;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t b = alive[static_cast<size_t>(i)], v = next[static_cast<size_t>(i)];
      auto& toks = g.tokens[static_cast<size_t>(b)];
      if (v == config_.eos) {
        g.ended[static_cast<size_t>(b)] = true;
        continue;
      }
      toks.push_back(v);
      if (static_cast<int64_t>(toks.size()) >= o.max_len) continue;
      keep.push_back(i);
      still.push_back(b);
      next_prev.push_back(v);
    }
    if (still.empty()) break;
    state = select_states(out.final_states, keep);
    alive = std::move(still);
    prev = std::move(next_prev);
  }
  for (const auto& t : g.tokens) g.lengths.push_back(static_cast<int64_t>(t.size()));
  return g;
}

template class Generator<float>;
template class Generator<double>;

}  // namespace reel
