// The reference's demonstrate_output_strategies(): its four output strategies on its sizes (batch 2,
// sequence 10, input 8, hidden 16, 3 classes; a context of 64, a vocabulary of 100, max_len 15),
// each printed with its input and output shapes, then one JSON line.
//
//   many-to-one         SequenceClassifier   (2, 10, 8) -> (2, 3)
//   many-to-many        SequenceTagger       (2, 10, 8) -> (2, 10, 3)
//   encoder-decoder     EncoderDecoder       source (2, 10) ids, target (2, 7) -> (2, 8, 100) logits; greedy decoding
//   one-to-many         Generator            context (2, 64) -> up to 15 tokens, each sequence its own length
//
// Every model draws its weights from one Rng (seed 42), as the reference seeds torch once.
//
//   output_strategies [--cell rnn|lstm|gru]
#include <cstdio>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "examples/example_common.h"
#include "framework/ops.h"
#include "models/decoding.h"
#include "models/generator.h"
#include "models/seq2seq.h"
#include "models/sequence_models.h"

using namespace reel;

namespace {

std::string dims_of(const std::vector<int64_t>& d) {
  std::string s = "(";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + ")";
}
std::string shape_of(const Shape& s) {
  std::vector<int64_t> d(s.dims.begin(), s.dims.begin() + s.rank);
  return dims_of(d);
}

std::string lengths_of(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

int run(const Cli& cli) {
  constexpr int64_t B = 2, T = 10, F = 8, H = 16, C = 3, kContext = 64, kVocab = 100, kMaxLen = 15;
  const std::string cell = cli.str("cell");
  Rng rng(42);
  SequenceBatch<float> x;  // (2, 10, 8) of N(0, 1), as torch.randn
  x.batch = B, x.max_len = T, x.features = F;
  for (int64_t i = 0; i < B * T * F; ++i) x.values.push_back(static_cast<float>(rng.normal()));
  x.lengths.assign(B, T);
  x.mask.assign(B * T, 1.0f);
  std::printf("Output Strategy Demonstrations (%s cell)\n%s\n", cell.c_str(), std::string(60, '=').c_str());

  SequenceModelConfig mc;
  mc.input_dim = F, mc.hidden_dim = H, mc.num_classes = C, mc.cell = cell;
  ParameterStore<float> s1, s2, s3, s4;
  Tape<float> tape;
  const Var<float> m2o = SequenceClassifier<float>(s1, mc, rng).logits(tape, x);
  std::printf("Many-to-One (sequence classification):\n  Input shape: %s\n  Output shape: %s\n", dims_of({B, T, F}).c_str(),
              shape_of(m2o.shape()).c_str());
  std::printf("  Interpretation: One class prediction per sequence\n");
  SequenceTagger<float> tagger(s2, mc, rng);
  const std::vector<float> m2m = tagger.forward(tape, x).by_position(x);
  std::printf("Many-to-Many Aligned (sequence labeling):\n  Input shape: %s\n  Output shape: %s\n", dims_of({B, T, F}).c_str(),
              dims_of({B, T, static_cast<int64_t>(m2m.size()) / (B * T)}).c_str());
  std::printf("  Interpretation: One class prediction per timestep\n");

  Seq2SeqConfig sc;
  sc.src_vocab = kVocab, sc.tgt_vocab = kVocab, sc.embed_dim = H, sc.hidden_dim = H, sc.cell = cell;
  EncoderDecoder<float> s2s(s3, sc, rng);
  std::vector<std::vector<int64_t>> src(B), tgt(B);
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = 0; t < T; ++t) src[b].push_back(4 + static_cast<int64_t>(rng.below(kVocab - 4)));
    for (int64_t t = 0; t < 7; ++t) tgt[b].push_back(4 + static_cast<int64_t>(rng.below(kVocab - 4)));
  }
  const SequenceBatch<float> sb = collate_ids<float>(src), tb = collate_ids<float>(tgt);
  const Var<float> logits = s2s.teacher_forced_logits(tape, s2s.encode(tape, sb), tb);
  const std::vector<Hypothesis> decoded = greedy_decode(s2s, tape, sb, kMaxLen);
  std::vector<int64_t> decoded_len;
  for (const Hypothesis& h : decoded) decoded_len.push_back(static_cast<int64_t>(h.tokens.size()));
  std::printf("Many-to-Many Unaligned (encoder-decoder):\n  Source shape: %s  Target shape: %s\n", dims_of({B, T}).c_str(),
              dims_of({B, 7}).c_str());
  std::printf("  Teacher-forced output shape: %s (<s> + 7 tokens in, 7 tokens + </s> out)\n", shape_of(logits.shape()).c_str());
  std::printf("  Greedy decoding (max_len %lld): lengths %s\n", static_cast<long long>(kMaxLen), lengths_of(decoded_len).c_str());
  std::printf("  Interpretation: Output length independent of input length\n");

  GeneratorConfig gc;
  gc.vocab = kVocab, gc.context_dim = kContext, gc.embed_dim = 16, gc.hidden_dim = H, gc.cell = cell;
  Generator<float> o2m(s4, gc, rng);
  std::vector<float> ctx_values;
  for (int64_t i = 0; i < B * kContext; ++i) ctx_values.push_back(static_cast<float>(rng.normal()));
  const Var<float> context = tape.input(ctx_values, Shape{B, kContext});
  const Generated g = o2m.generate(tape, context, GenerateOptions{kMaxLen, {}}, rng);
  std::printf("One-to-Many (generation from context):\n  Context shape: %s\n  Generated lengths: %s (max_len %lld)\n",
              shape_of(context.shape()).c_str(), lengths_of(g.lengths).c_str(), static_cast<long long>(kMaxLen));
  std::printf("  Interpretation: Variable length sequence from single input; each stops at its own END\n");

  examples::JsonLine j;
  j.add("example", std::string("output_strategies")).add("cell", cell);
  j.raw("many_to_one", "[" + std::to_string(m2o.shape()[0]) + "," + std::to_string(m2o.shape()[1]) + "]");
  j.raw("many_to_many", "[" + std::to_string(B) + "," + std::to_string(T) + "," + std::to_string(C) + "]");
  j.raw("encoder_decoder", "[" + std::to_string(logits.shape()[0]) + "," + std::to_string(logits.shape()[1]) + "," +
                               std::to_string(logits.shape()[2]) + "]");
  j.raw("greedy_lengths", lengths_of(decoded_len)).raw("generated_lengths", lengths_of(g.lengths));
  j.print();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Cli cli("output_strategies",
          "The reference's four output strategies on its sizes (batch 2, seq 10, input 8, hidden 16, 3 classes; context 64, "
          "vocab 100, max_len 15): input and output shapes of each, then one JSON line.");
  cli.option("cell", "rnn", "the cell of every model: rnn | lstm | gru");
  return examples::run_main(cli, argc, argv, [&] { return run(cli); });
}
