// memory_report: what backpropagation through time keeps alive, and what checkpointing saves.
//
// For each T (default 100, 500, 1000, 5000) at B=32, hidden 512, on the adding problem, with any
// cell (--cell rnn|lstm|gru; the dry-run estimate measures the cell's steps, nothing is written for it):
//   predicted   B·T·d·4 (hidden states alone) and twice that (with pre-activations), the textbook
//               figures;
//   full        full BPTT (memory::record_full) on a tape that keeps every gradient until clear()
//               (Tape::set_retain_grads): the measured peak values + gradients, equal to its dry-run
//               estimate, the bytes its records declare saved, per op kind;
//   recycled    the same on a default tape, which recycles each gradient buffer once its op's
//               backward has run (gradients bitwise equal to full's);
//   stock       the same loss through SequenceRunner::forward (one input GEMM over all steps);
//   checkpointed  uniform segments of k = ⌈√T⌉;
//   budget      memory::plan_for_budget(full / --budget-div): plan, stored states, recomputed steps;
// each with the process's peak RSS (VmHWM): every mode runs in its own forked child, which resets
// the mark after building the model and data. Times (wall and process CPU) are the second of two
// runs (the first fills the arenas). Gradients of full and checkpointed runs are compared bitwise (hash).
// A table goes to stderr; stdout gets one JSON line {"rows":[{"T":...,...},...]}.
// --quick: B=4, hidden 32, T in {20, 50}, budget full/5 (for CI).
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "examples/example_common.h"
#include "framework/memory/accounting.h"
#include "models/adding_task.h"
#include "framework/memory/checkpointed.h"

using namespace reel;
using namespace reel::memory;
using reel::examples::JsonLine;

namespace {

struct Config {
  int64_t batch, hidden;
  size_t budget_div;
  uint64_t seed;
  std::string cell;
};

double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
}

uint64_t grad_hash(ParameterStore<float>& store) {
  uint64_t h = 1469598103934665603ull;
  for (auto* p : store.all())
    for (float g : p->grad) {
      uint32_t bits;
      std::memcpy(&bits, &g, sizeof bits);
      h = (h ^ bits) * 1099511628211ull;
    }
  return h;
}

// One mode at one T, in this (child) process; returns JSON members "<mode>_...".
std::string run_mode(const Config& c, int64_t Tn, const std::string& mode) {
  Rng rng(c.seed);
  ParameterStore<float> store;
  AddingModel<float> model(store, c.hidden, "tanh", rng, false, c.cell);
  const AddingBatch<float> batch = make_adding_batch<float>(c.batch, Tn, rng);
  const SequenceProblem<float> p = model.problem(batch);
  const MemoryModel mm = memory_model(p);
  Tape<float> tape;
  CheckpointedBPTT<float> ckpt;
  Plan plan;
  if (mode == "checkpointed") plan = plan_uniform(mm);
  if (mode == "budget") {
    try {
      plan = plan_for_budget(mm, mm.full_bptt() / c.budget_div);
    } catch (const UsageError& e) {
      spdlog::warn("T={}: {}", Tn, e.what());
      return "\"budget_plan\":\"none\"";
    }
  }
  reset_peak_rss();
  const size_t rss_base = current_rss_bytes();
  size_t bytes = 0;
  double ms = 0, cpu = 0;
  for (int run = 0; run < 2; ++run) {
    store.zero_grad();
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpu_ms();
    if (mode == "full" || mode == "recycled" || mode == "stock") {
      tape.clear();
      tape.set_retain_grads(mode == "full");
      Var<float> loss = mode == "stock" ? model.stock_loss(tape, batch) : record_full(tape, p);
      tape.backward(loss);
      bytes = tape.stats().peak_bytes;
    } else {
      bytes = ckpt.run(tape, p, plan).peak_bytes;
    }
    ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    cpu = cpu_ms() - c0;
  }
  const std::string key = mode == "stock" ? "stock_full" : mode;
  std::ostringstream os;
  os << "\"" << (mode == "budget" ? "budget_peak" : key) << "_bytes\":" << bytes << ",\"" << key << "_ms\":" << ms
     << ",\"" << key << "_cpu_ms\":" << cpu << ",\"" << key << "_rss_bytes\":" << peak_rss_bytes() << ",\"" << key
     << "_rss_base_bytes\":" << rss_base
     << ",\"" << key << "_grad_hash\":\"" << std::hex << grad_hash(store) << std::dec << "\"";
  if (mode == "full") {
    const MemoryBreakdown b = memory_breakdown(tape);
    os << ",\"full_estimate_bytes\":" << mm.full_bptt() << ",\"full_saved_bytes\":" << b.stats.saved_bytes
       << ",\"full_by_kind\":" << b.json();
    spdlog::info("T={} full BPTT tape, by op kind:\n{}", Tn, b.table());
  }
  if (mode == "checkpointed" || mode == "budget") {
    os << ",\"" << mode << "_estimate_bytes\":" << plan.peak_bytes << ",\"" << mode
       << "_plan\":\"" << plan_kind_name(plan.kind) << "\",\"" << mode << "_chunks\":" << plan.chunks() << ",\"" << mode
       << "_snapshots\":" << plan.snapshots << ",\""
       << mode << "_recomputed_steps\":" << plan.recomputed_steps << ",\"" << mode
       << "_longest_chunk\":" << plan.longest_chunk();
    spdlog::info("T={} {}: {}", Tn, mode, plan.describe());
  }
  return os.str();
}

// Runs f in a forked child and returns what it wrote.
std::string in_child(const std::function<std::string()>& f) {
  int fd[2];
  if (pipe(fd) != 0) throw std::runtime_error("memory_report: pipe failed");
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("memory_report: fork failed");
  if (pid == 0) {
    close(fd[0]);
    int code = 0;
    std::string out;
    try {
      out = f();
    } catch (const std::exception& e) {
      out = std::string("!") + e.what();
      code = 1;
    }
    const char* s = out.c_str();
    size_t left = out.size();
    while (left > 0) {
      const ssize_t w = write(fd[1], s, left);
      if (w <= 0) break;
      s += w;
      left -= static_cast<size_t>(w);
    }
    close(fd[1]);
    _exit(code);
  }
  close(fd[1]);
  std::string out;
  char buf[4096];
  ssize_t r;
  while ((r = read(fd[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(r));
  close(fd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!out.empty() && out[0] == '!') throw std::runtime_error("memory_report child: " + out.substr(1));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("memory_report: a child failed");
  return out;
}

std::string field(const std::string& json, const std::string& key) {
  const std::string k = "\"" + key + "\":";
  const size_t at = json.find(k);
  if (at == std::string::npos) return "";
  const size_t b = at + k.size();
  size_t e = b;
  while (e < json.size() && json[e] != ',' && json[e] != '}') ++e;
  return json.substr(b, e - b);
}

double num(const std::string& json, const std::string& key) {
  const std::string v = field(json, key);
  return v.empty() ? 0.0 : std::stod(v);
}


}  // namespace

int main(int argc, char** argv) {
  Cli cli("memory_report", "Bytes BPTT keeps alive: predicted, measured, checkpointed, budgeted; peak RSS.");
  cli.option("batch", "32", "batch size").integer_in(1, 65536)
      .option("hidden", "512", "hidden size").integer_in(1, 16384)
      .option("steps", "100,500,1000,5000", "sequence lengths, comma-separated")
      .option("budget-div", "50", "budget mode: full BPTT's bytes divided by this").integer_in(1, 1000000)
      .option("threads", "1", "BLAS threads").integer_in(1, 256)
      .option("seed", "1", "random seed").integer_in(0, int64_t{1} << 53)
      .option("cell", "rnn", "recurrent cell: rnn, lstm or gru")
      .flag("no-stock", "skip the forward_sequence baseline")
      .flag("quick", "B=4, hidden 32, T in {20, 50}, budget 1/5: well under a second, for CI");
  return examples::run_main(cli, argc, argv, [&] {
    const bool quick = cli.on("quick");
    Config c{quick ? 4 : cli.integer("batch"), quick ? 32 : cli.integer("hidden"),
             static_cast<size_t>(std::max<int64_t>(1, quick && !cli.given("budget-div") ? 5 : cli.integer("budget-div"))),
             static_cast<uint64_t>(cli.integer("seed")), cli.str("cell")};
    const std::vector<int64_t> lengths = quick ? std::vector<int64_t>{20, 50} : cli.integers("steps", 1, 1000000);
    std::vector<std::string> modes{"full", "recycled", "checkpointed", "budget"};
    if (!cli.on("no-stock")) modes.insert(modes.begin() + 1, "stock");
    std::string rows;
    for (int64_t Tn : lengths) {
      std::string row = "\"cell\":\"" + c.cell + "\",\"T\":" + std::to_string(Tn) + ",\"batch\":" + std::to_string(c.batch) + ",\"hidden\":" +
                        std::to_string(c.hidden) +
                        ",\"predicted_hidden_bytes\":" + std::to_string(hidden_state_bytes(c.batch, Tn, c.hidden)) +
                        ",\"predicted_preact_bytes\":" + std::to_string(with_preactivation_bytes(c.batch, Tn, c.hidden));
      for (const std::string& m : modes) row += "," + in_child([&] { return run_mode(c, Tn, m); });
      const MemoryModel mm = [&] {  // measured on the model itself: a few probe steps
        Rng rng(c.seed);
        ParameterStore<float> store;
        AddingModel<float> model(store, c.hidden, "tanh", rng, false, c.cell);
        return memory_model(model.problem(make_adding_batch<float>(c.batch, Tn, rng)));
      }();
      row += ",\"k\":" + std::to_string(default_segment(Tn)) +
             ",\"budget_bytes\":" + std::to_string(mm.full_bptt() / c.budget_div);
      // Every mode that ran (the budget has none when no plan fits) against full BPTT's gradients.
      bool equal = true;
      for (const char* m : {"recycled_grad_hash", "checkpointed_grad_hash", "budget_grad_hash"})
        if (!field(row, m).empty()) equal = equal && field(row, m) == field(row, "full_grad_hash");
      row += std::string(",\"grads_bitwise_equal\":") + (equal ? "true" : "false");
      const double full_b = num(row, "full_bytes"), ck_b = num(row, "checkpointed_bytes");
      spdlog::info("{} T={:>5}: predicted h {:>8.1f} MB, +preact {:>8.1f} MB | full {:>8.1f} MB ({:.0f} ms, RSS {:.0f} MB) | "
                   "recycled {:>8.1f} MB ({:.0f} ms) | checkpointed {:>6.1f} MB = 1/{:.0f} ({:.0f} ms, RSS {:.0f} MB) | budget {:.1f} MB: {} peak {:.1f} MB "
                   "({:.0f} ms) | grads equal: {}",
                   c.cell, Tn, hidden_state_bytes(c.batch, Tn, c.hidden) / 1e6,
                   with_preactivation_bytes(c.batch, Tn, c.hidden) / 1e6, full_b / 1e6,
                   num(row, "full_ms"), num(row, "full_rss_bytes") / 1e6, num(row, "recycled_bytes") / 1e6,
                   num(row, "recycled_ms"), ck_b / 1e6,
                   full_b / ck_b, num(row, "checkpointed_ms"),
                   num(row, "checkpointed_rss_bytes") / 1e6, (mm.full_bptt() / c.budget_div) / 1e6,
                   field(row, "budget_plan"), num(row, "budget_peak_bytes") / 1e6,
                   num(row, "budget_ms"), equal);
      rows += (rows.empty() ? "{" : ",{") + row + "}";
    }
    JsonLine j;
    j.raw("rows", "[" + rows + "]");
    j.print();
    return 0;
  });
}
