#!/usr/bin/env python3
"""Data-parallel scaling: measured on this machine's loopback, predicted for a cluster.

1. Allreduce latency and bandwidth on loopback (Open MPI, shared memory, 2 ranks) for 4 B .. 64 MiB
   and the shipped models' gradient sizes (bench_distributed --metric allreduce).
2. Training steps split into compute and communication for 1 and 2 ranks, weak scaling (32
   sequences per rank): train_tagger's model and an LSTM classifier of hidden 1024 (T=100, input
   100), overlap on and off (bench_distributed --metric step).
3. An alpha-beta model of MPI's collectives (Thakur, Rabenseifner and Gropp 2005), fitted to (1)
   for loopback and checked against (2); L = ceil(log2 p):
       allreduce(n bytes) = min(L (alpha + n beta),                 recursive doubling (small n)
                                2 L alpha + 2 (p-1)/p n beta,        Rabenseifner
                                2 (p-1) alpha + 2 (p-1)/p n beta)    ring
       allgather(m bytes per rank) = L alpha + (p-1) m beta')
   A step's communication = the loss-term allreduce (16 B) + the dense gradient's allreduce + for
   the tagger the embedding's touched rows (allgather of counts, ids and rows; dense allreduce of the
   embedding when that is cheaper, as GradientSync decides), no overlap credited. Step time =
   compute (measured at 1 rank) + communication; efficiency = compute / step time.
   Predicted for 8..256 ranks on 10/25/100 Gb/s Ethernet with beta = 8 / (0.9 x line rate) and an
   assumed alpha of 20 us per message step (TCP; not measured here: this machine has no network).

Each measurement runs in a fresh mpirun. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset together
(OpenBLAS then picks its kernel by CPU), 1 BLAS thread per rank. Writes raw JSON lines to --out and
prints the tables as markdown (docs/distributed.md holds a run of it).
"""
import argparse
import collections
import gzip
import json
import math
import os
import random
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINE_RATES = [10, 25, 100]
RANKS = [8, 16, 32, 64, 128, 256]
ALPHA_NET = 20e-6


def env():
    e = dict(os.environ)
    for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        e.pop(k, None)
    e.update({"OPENBLAS_NUM_THREADS": "1", "OMPI_MCA_btl_vader_single_copy_mechanism": "none",
              "OMPI_MCA_orte_base_help_aggregate": "0"})
    return e


def mpirun(build, np, args):
    cmd = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--mca", "btl", "self,vader", "-np", str(np),
           os.path.join(build, "bench", "bench_distributed"), "--distributed"] + args
    out = subprocess.run(cmd, env=env(), check=True, capture_output=True, text=True).stdout
    return [json.loads(l) for l in out.splitlines() if l.startswith("{")]


def fit_alpha_beta(rows):
    """Least squares of t = 2 alpha + n beta (2 ranks), relative errors, on sizes >= 1 KiB."""
    pts = [(r["bytes"], r["median_us"] * 1e-6) for r in rows if r["bytes"] >= 1024]
    # weighted by 1/t^2: every size counts alike
    s11 = sum(4 / t**2 for n, t in pts); s12 = sum(2 * n / t**2 for n, t in pts)
    s22 = sum(n * n / t**2 for n, t in pts); b1 = sum(2 * t / t**2 for n, t in pts); b2 = sum(n * t / t**2 for n, t in pts)
    det = s11 * s22 - s12 * s12
    alpha = (b1 * s22 - b2 * s12) / det
    beta = (s11 * b2 - s12 * b1) / det
    return max(alpha, 0.0), beta


def allreduce(n, p, a, b):
    """The cheaper of recursive doubling (small messages) and ring / Rabenseifner (large)."""
    if p == 1:
        return 0.0
    lg = math.ceil(math.log2(p))
    return min(lg * (a + n * b), 2 * lg * a + 2 * (p - 1) / p * n * b, 2 * (p - 1) * a + 2 * (p - 1) / p * n * b)


def allgather(m, p, a, b):
    """Recursive doubling: log2(p) message steps, every rank receives (p-1) m bytes."""
    return 0.0 if p == 1 else math.ceil(math.log2(p)) * a + (p - 1) * m * b


def tagger_rows_per_batch(batch=32, samples=200):
    """Mean distinct vocabulary rows in a batch of UD EWT training sentences (train_tagger's vocabulary:
    lower-cased words seen twice; every other word is <unk>)."""
    path = os.path.join(ROOT, "data", "ud-english-ewt", "en_ewt-ud-train.conllu.gz")
    sents, cur = [], []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                if cur:
                    sents.append(cur)
                cur = []
            elif not line.startswith("#"):
                cols = line.split("\t")
                if cols[0].isdigit():
                    cur.append(cols[1].lower())
    counts = collections.Counter(w for s in sents for w in s)
    rng = random.Random(1)
    total = 0
    for _ in range(samples):
        words = set()
        for s in rng.sample(sents, batch):
            words.update(w if counts[w] >= 2 else "<unk>" for w in s)
        total += len(words)
    return total / samples, len([w for w, c in counts.items() if c >= 2]) + 2


def step_comm(model, p, a, b, sizes):
    """Predicted communication seconds of one step on p ranks."""
    t = allreduce(16, p, a, b)  # loss and loss terms
    if model == "tagger":
        rows, vocab, dim = sizes["rows"], sizes["vocab"], 100
        dense = sizes["tagger_bytes"] - vocab * dim * 4
        t += allreduce(dense, p, a, b)
        t += allgather(8, p, a, b)  # row counts
        if p * rows * (dim * 4 + 8) < vocab * dim * 4:
            t += allgather(rows * 8, p, a, b) + allgather(rows * dim * 4, p, a, b)
        else:
            t += allreduce(vocab * dim * 4, p, a, b)
        return t
    return t + allreduce(sizes["lstm1024_bytes"], p, a, b)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "distributed.jsonl"))
    ap.add_argument("--steps", type=int, default=30)
    args = ap.parse_args()
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    raw = []
    ar = mpirun(args.build, 2, ["--metric", "allreduce", "--reps", "50"])
    raw += ar
    steps = []
    for model, n in (("tagger", args.steps * 10), ("lstm1024", max(3, args.steps // 6))):
        for np_ in (1, 2):
            for ov in ([], ["--overlap"]):
                steps += mpirun(args.build, np_, ["--metric", "step", "--model", model, "--steps", str(n)] + ov)
    raw += steps
    with open(args.out, "w") as f:
        for r in raw:
            f.write(json.dumps(r) + "\n")

    a_loop, b_loop = fit_alpha_beta([r for r in ar if r["metric"] == "allreduce"])
    rows, vocab = tagger_rows_per_batch()
    sizes = {"rows": rows, "vocab": vocab}
    for r in steps:
        sizes[r["model"] + "_bytes"] = r["gradient_bytes"]
    print("## Allreduce on loopback (2 ranks, shared memory)\n")
    print("| bytes | median µs | GB/s | model µs |\n|---:|---:|---:|---:|")
    for r in ar:
        print("| %d | %.1f | %.2f | %.1f |" % (r["bytes"], r["median_us"], r["algbw_GBps"],
                                              allreduce(r["bytes"], 2, a_loop, b_loop) * 1e6))
    print("\nFit: alpha = %.2f µs, beta = %.3f ns/B (%.2f GB/s)\n" % (a_loop * 1e6, b_loop * 1e9, 1e-9 / b_loop))
    print("## Step split, 32 sequences per rank\n")
    print("| model | ranks | overlap | step ms | compute ms | comm ms | comm share | model comm ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in steps:
        print("| %s | %d | %s | %.2f | %.2f | %.2f | %.1f%% | %.2f |" % (
            r["model"], r["ranks"], "on" if r["overlap"] else "off", r["step_ms"], r["compute_ms"], r["comm_ms"],
            100 * r["comm_ms"] / r["step_ms"], step_comm(r["model"], r["ranks"], a_loop, b_loop, sizes) * 1e3))
    print("\nTagger: %.0f distinct rows of a %d-row embedding per 32-sentence batch (UD EWT train)\n" % (rows, vocab))
    compute = {r["model"]: r["compute_ms"] * 1e-3 for r in steps if r["ranks"] == 1 and not r["overlap"]}
    print("## Predicted on a cluster (alpha = %.0f µs assumed, beta from 90%% of line rate; weak scaling)\n" % (ALPHA_NET * 1e6))
    print("| model | Gb/s | " + " | ".join("%d ranks" % p for p in RANKS) + " |")
    print("|---|---:|" + "---:|" * len(RANKS))
    table = []
    for model in ("tagger", "lstm1024"):
        for rate in LINE_RATES:
            beta = 8 / (0.9 * rate * 1e9)
            cells = []
            for p in RANKS:
                c = step_comm(model, p, ALPHA_NET, beta, sizes)
                eff = compute[model] / (compute[model] + c)
                cells.append("%.0f%% (%.1f ms)" % (100 * eff, c * 1e3))
                table.append({"model": model, "gbps": rate, "ranks": p, "comm_ms": c * 1e3,
                              "compute_ms": compute[model] * 1e3, "efficiency": eff})
            print("| %s | %d | %s |" % (model, rate, " | ".join(cells)))
    with open(args.out, "a") as f:
        for t in table:
            f.write(json.dumps(dict(t, metric="prediction")) + "\n")
    print("\nCells: efficiency = compute / (compute + communication), and the predicted communication per step.")


if __name__ == "__main__":
    sys.exit(main())
