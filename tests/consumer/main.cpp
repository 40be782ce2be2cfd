// Trains nothing: records one RNN step on a tape, backpropagates, prints a JSON line.
#include <cstdio>

#include <reel/framework/ops.h>
#include <reel/models/vanilla_rnn.h>

int main() {
  reel::ParameterStore<float> store;
  reel::Rng rng(7);
  reel::VanillaRNN<float> rnn(store, {3, 4, 2, "tanh"}, rng);
  reel::Tape<float> tape;
  auto x = tape.input(std::vector<float>(2 * 5 * 3, 0.5f), reel::Shape{2, 5, 3});
  auto seq = rnn.forward_sequence(tape, x);
  auto loss = reel::sum(seq.final_hidden);
  tape.backward(loss);
  std::printf("{\"consumer\":\"ok\",\"loss\":%.6f,\"records\":%zu}\n", static_cast<double>(loss.item()),
              tape.num_records());
  return 0;
}
