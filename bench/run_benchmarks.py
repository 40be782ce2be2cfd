#!/usr/bin/env python3
"""Runs reel (bench_rnn) and PyTorch (torch_rnn_bench.py) side by side over the benchmark grid and
writes one comparison table: results.csv, results.md and raw.jsonl in --out (default bench/results).

Cells (--cells, default rnn,lstm,gru): rnn = reel's VanillaRNN vs nn.RNN (the path docs/benchmarks.md
has always measured); lstm / gru = a one-layer reel SequenceRunner vs nn.LSTM / nn.GRU. Every cell
runs over the same grid.
Grid (from the reference's profile_rnn_forward): input 100, batch 32, hidden {128,256,512,1024} x
seq_len {50,100,200,500}, plus batch 1 and batch 128 at hidden 256, seq 100; threads 1 and 2.
--quick: batch 32, hidden {128,512}, seq 100 (rnn alone: under two minutes).

Every measurement runs in a fresh process, one per (point, threads, side/configuration), in the order
reel, PyTorch best, PyTorch as installed, oneDNN (rotated every round), so that machine noise hits all alike:
  reel               build*/bench/bench_rnn --threads N (blas::set_threads, denormals flushed)
  PyTorch best       OMP_WAIT_POLICY=PASSIVE OPENBLAS_CORETYPE=SkylakeX, torch.set_flush_denormal(True)
  PyTorch installed  the default environment
  oneDNN             bench/onednn_rnn_bench (same build dir as bench_rnn; built with REEL_WITH_ONEDNN):
                     oneDNN's own vanilla RNN (tanh) and LSTM primitives, forward inference and forward
                     training + backward (with the input's gradient); none for gru. OpenMP threads N,
                     denormals flushed in every OpenMP thread, libgomp's default wait policy
                     (--onednn-wait-policy to change it).
Both PyTorch configurations call torch.set_num_threads(N) and set the OpenBLAS pool torch's GEMMs
use to N threads (torch.set_num_threads alone leaves it at the core count). The machine's single-
thread FMA peak is measured once, first (bench_rnn --metric fma_peak), and every side's GFLOP/s is
reported against it (x N at N threads).

CSV: cell,batch,seq_len,hidden,threads,metric,reel_ms,pytorch_ms,pytorch_installed_ms,ratio,onednn_ms,
ratio_onednn with metric in forward, forward_backward, train_step (median ms) and peak_mib (MiB, in the
*_ms columns); pytorch_ms = PyTorch best configuration; ratio = reel / PyTorch best (< 1: reel is
faster/smaller); onednn_ms = oneDNN's primitive (for train_step: its forward_backward, the issue's
yardstick for a training step); ratio_onednn = reel / oneDNN.
"""
import argparse
import csv
import datetime
import glob
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
METRICS = ["forward", "forward_backward", "train_step", "peak_mib"]
BEST_ENV = {"OMP_WAIT_POLICY": "PASSIVE", "OPENBLAS_CORETYPE": "SkylakeX"}
# Variables the bench itself controls: removed from every child's environment.
CONTROLLED = ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY",
              "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "GOTO_NUM_THREADS"]  # CORETYPE and L2_SIZE unset together
CELLS = ["rnn", "lstm", "gru"]
GATES = {"rnn": 1, "lstm": 4, "gru": 3}  # gate blocks: both projections are G·hidden wide
ONEDNN_CELLS = ("rnn", "lstm")  # oneDNN primitives benchmarked (its GRU is not PyTorch's/reel's cell order)


def fwd_flops(b, t, h, cell, n=100):
    """Useful forward FLOPs: input projection and recurrent products, G gate blocks each."""
    return 2.0 * b * t * GATES[cell] * (n * h + h * h)


def flops_of(side, metric, b, t, h, cell, n=100):
    """FLOPs of the GEMM work a side's metric does: forward F; forward+backward and the training step
    add dW_xh, dW_hh and dh (2F - 2BTG·n·d more: the input needs no gradient), oneDNN's backward
    also computes the input's gradient (3F)."""
    f = fwd_flops(b, t, h, cell, n)
    if metric == "forward":
        return f
    if side == "onednn":
        return 3 * f
    return 3 * f - 2.0 * b * t * GATES[cell] * n * h


def grid(quick):
    if quick:
        return [(32, 100, 128), (32, 100, 512)]
    pts = [(32, t, h) for h in (128, 256, 512, 1024) for t in (50, 100, 200, 500)]
    return pts + [(1, 100, 256), (128, 100, 256)]


def reps_for(b, t, h, quick, reps, warmup, gates=1):
    """Same reps for both sides: ~1 s of timed training steps per metric, 5..25 reps."""
    if reps:
        return reps, warmup
    flops = 2.0 * b * t * gates * (100 * h + h * h)
    est_train_s = 3 * flops / 30e9 + 3 * b * t * 2e-6  # ~30 GFLOP/s plus per-step overhead
    r = int(max(5, min(25, (1.0 if quick else 1.5) / max(est_train_s, 1e-4))))
    return r, (1 if est_train_s > 1.0 else warmup)


def target_for(cell, b, h):
    """The training-step target (reel / PyTorch best at each side's best thread count), or None."""
    if cell == "rnn":  # the speed issue: <= 0.5 at hidden <= 256, <= 0.7 at 512-1024, <= 0.15 at batch 1
        if b == 1:
            return 0.15  # per-step overhead at batch 1
        return 0.5 if h <= 256 else 0.7
    return 0.7 if h <= 512 else None  # lstm, gru (the gated cells' issue)


def issue_targets(results, peak):
    """The speed issue's targets, each with the points it covers, how many meet it and the misses."""
    def ms(sides, side, m):
        rec = onednn_record(sides, m) if side == "onednn" else sides[side].get(m)
        return value(rec, m)

    checks = []  # (target, [(label, figure, ok)])

    def add(name, items):
        checks.append((name, [i for i in items if i[1] is not None]))

    def label(cell, b, t, h, thr=None):
        return "%s B%d T%d d%d%s" % (cell, b, t, h, "" if thr is None else " %dt" % thr)

    def ratio(sides, a, sa, bm, sb):
        x, y = ms(sides, sa, a), ms(sides, sb, bm)
        return x / y if x is not None and y else None

    def onednn_points(thr_want):
        out = []
        for (cell, b, t, h, thr), sd in results.items():
            if cell == "rnn" and thr == thr_want and t == 100 and ((b == 32 and h >= 128) or (b == 128 and h == 256)):
                out.append((label(cell, b, t, h), ratio(sd, "train_step", "reel", "forward_backward", "onednn")))
        return out

    lim1 = [(l, r, r is not None and r <= 0.85) for l, r in onednn_points(1)]
    add("rnn training step ≤ 0.85 × oneDNN's forward+backward, 1 thread (B32 T100 d128–1024, B128 d256)", lim1)
    add("the same ≤ 1.0 ×, 2 threads", [(l, r, r is not None and r <= 1.0) for l, r in onednn_points(2)])
    if peak:
        for m, lim, what in (("forward", 0.75, "forward"), ("train_step", 0.60, "training step")):
            items = []
            for (cell, b, t, h, thr), sd in results.items():
                v = ms(sd, "reel", m)
                if cell == "rnn" and b == 32 and h >= 256 and thr == 1 and v:
                    frac = flops_of("reel", m, b, t, h, cell) / (v * 1e6) / peak
                    items.append((label(cell, b, t, h), frac, frac >= lim))
            add("rnn %s ≥ %d %% of the FMA peak, hidden ≥ 256, 1 thread" % (what, round(100 * lim)), items)
    by_point = {}
    for (cell, b, t, h, thr), sd in results.items():
        by_point.setdefault((cell, b, t, h), {})[thr] = sd
    items = []
    for (cell, b, t, h), per_thr in by_point.items():
        if cell != "rnn":
            continue
        best = [min((v, thr) for v, thr in ((ms(sd, side, "train_step"), thr) for thr, sd in per_thr.items())
                    if v is not None) if any(ms(sd, side, "train_step") for sd in per_thr.values()) else None
                for side in ("reel", "best")]
        if best[0] and best[1]:
            r, lim = best[0][0] / best[1][0], target_for(cell, b, h)
            items.append((label(cell, b, t, h), r, r <= lim))
    add("rnn training step ≤ 0.5 × PyTorch best at hidden ≤ 256, ≤ 0.7 × at 512–1024, ≤ 0.15 × at batch 1 "
        "(each side's best thread count)", items)
    add("lstm training step ≤ 0.9 × oneDNN's LSTM forward+backward, 1 thread, hidden 256 and 512",
        [(label(c, b, t, h), r, r is not None and r <= 0.9) for (c, b, t, h, thr), sd in results.items()
         for r in [ratio(sd, "train_step", "reel", "forward_backward", "onednn")]
         if c == "lstm" and b == 32 and t == 100 and h in (256, 512) and thr == 1])
    add("peak memory of forward+backward ≤ 0.7 × PyTorch's, every point",
        [(label(c, b, t, h, thr), r, r is not None and r <= 0.7) for (c, b, t, h, thr), sd in results.items()
         for r in [ratio(sd, "peak_mib", "reel", "peak_mib", "best")] if c == "rnn"])
    items = []
    for (cell, b, t, h), per_thr in by_point.items():
        if b == 32 and h >= 512 and 1 in per_thr and 2 in per_thr:
            one, two = ms(per_thr[1], "reel", "train_step"), ms(per_thr[2], "reel", "train_step")
            if one and two:
                items.append((label(cell, b, t, h), one / two, one / two >= 1.6))
    add("2 threads ≥ 1.6 × the 1-thread speed of a training step, hidden ≥ 512, B32", items)

    md = ["### The speed issue's targets, point by point", "",
          "Figures: ratios (reel / other), fractions of the FMA peak, or speed-ups, as the target states.", "",
          "| target | points | met | missed (figure) |", "|---|---:|---:|---|"]
    for name, items in checks:
        if not items:
            continue
        missed = ["%s %.2f" % (l, v) for l, v, ok in items if not ok]
        md.append("| %s | %d | %d | %s |" % (name, len(items), sum(1 for i in items if i[2]),
                                             ", ".join(missed) if missed else "—"))
    md.append("")
    return md


def pooled(recs):
    """One record from the same measurement in several rounds: timings pooled over all samples,
    peak and sgemm figures the median over rounds."""
    recs = [r for r in recs if r]
    if not recs:
        return None
    out = dict(recs[0])
    if "samples_ms" in out:
        ms = sorted(v for r in recs for v in r["samples_ms"])
        out.update(median_ms=statistics.median(ms), min_ms=ms[0], max_ms=ms[-1], reps_done=len(ms), rounds=len(recs))
        if "gflops" in out:  # the flops the record's own GFLOP/s implies, over the pooled median
            out["gflops"] = recs[0]["gflops"] * recs[0]["median_ms"] / out["median_ms"]
    else:
        for k, v in out.items():
            if isinstance(v, float):
                out[k] = statistics.median(r[k] for r in recs if k in r)
        out["rounds"] = len(recs)
    return out


def find_onednn_binary(explicit, bench_rnn):
    """onednn_rnn_bench from the same build as bench_rnn, or None (a build without oneDNN)."""
    if explicit:
        return explicit
    p = os.path.join(os.path.dirname(bench_rnn), "onednn_rnn_bench")
    return p if os.access(p, os.X_OK) else None


def find_binary(explicit):
    if explicit:
        return explicit
    cands = [p for p in glob.glob(os.path.join(ROOT, "build*", "bench", "bench_rnn")) if os.access(p, os.X_OK)]
    if not cands:
        sys.exit("run_benchmarks: no build*/bench/bench_rnn; build first (cmake -S . -B build && make -C build bench_rnn) "
                 "or pass --binary")
    return max(cands, key=os.path.getmtime)


def run(cmd, env, log):
    child_env = {k: v for k, v in os.environ.items() if k not in CONTROLLED}
    child_env.update(env)
    envs = " ".join("%s=%s" % kv for kv in sorted(env.items()))
    line = (envs + " " if envs else "") + " ".join(shlex.quote(c) for c in cmd)
    log.write("$ " + line + "\n")
    p = subprocess.run(cmd, env=child_env, capture_output=True, text=True)
    recs = []
    for l in p.stdout.splitlines():
        l = l.strip()
        if l.startswith("{"):
            try:
                recs.append(json.loads(l))
            except json.JSONDecodeError:
                pass
    if p.returncode != 0:
        log.write("  exit %d: %s\n" % (p.returncode, p.stderr.strip()[-2000:]))
        print("  FAILED (exit %d): %s" % (p.returncode, line), file=sys.stderr)
    return recs


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
            return m.group(1).strip() if m else platform.processor()
    except OSError:
        return platform.processor()


def fmt(v, nd=2):
    if v is None:
        return "—"
    if abs(v) >= 100:
        return "%.0f" % v
    if abs(v) >= 10:
        return "%.1f" % v
    return "%.*f" % (nd, v)


def spread(r):
    if not r or "median_ms" not in r:
        return "—"
    cut = "*" if r.get("reps_done", 0) < r.get("reps", 0) * r.get("rounds", 1) else ""
    return "%s (%s–%s)%s" % (fmt(r["median_ms"]), fmt(r["min_ms"]), fmt(r["max_ms"]), cut)


SIDES = ("reel", "best", "installed", "onednn")


def onednn_record(sides, metric):
    """oneDNN's record for a metric: a training step compares with its forward+backward."""
    od = sides.get("onednn", {})
    return od.get("forward_backward") if metric == "train_step" else od.get(metric)


def value(r, metric):
    if not r:
        return None
    return r.get("peak_mib") if metric == "peak_mib" else r.get("median_ms")


def main():
    ap = argparse.ArgumentParser(description="reel vs PyTorch RNN benchmark (see the module docstring)")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results"), help="output directory")
    ap.add_argument("--quick", action="store_true", help="hidden 128 and 512, seq 100, batch 32 only")
    ap.add_argument("--cells", default=",".join(CELLS), help="comma list of cells: rnn, lstm, gru (default: all)")
    ap.add_argument("--threads", default="1,2", help="comma list of thread counts")
    ap.add_argument("--reps", type=int, default=0, help="timed reps per metric (default: by size, 5..15)")
    ap.add_argument("--warmup", type=int, default=2, help="warm-up reps per metric")
    ap.add_argument("--rounds", type=int, default=1,
                    help="run every process this many times (rotating the order); timings pooled over rounds")
    ap.add_argument("--max-seconds", type=float, default=-1,
                    help="per-metric time budget passed to both benches (default 3 with --quick, else 10)")
    ap.add_argument("--binary", default="", help="bench_rnn executable (default: newest build*/bench/bench_rnn)")
    ap.add_argument("--python", default="/usr/bin/python3", help="Python with torch")
    ap.add_argument("--onednn-binary", default="", help="onednn_rnn_bench executable (default: beside bench_rnn)")
    ap.add_argument("--no-onednn", action="store_true", help="skip oneDNN's primitives")
    ap.add_argument("--onednn-wait-policy", default="", help="OMP_WAIT_POLICY for the oneDNN side (default: unset)")
    ap.add_argument("--points", default="", help="override the grid: 'B:T:H,B:T:H,...'")
    ap.add_argument("--docs", default="", help="also replace the results section of this markdown file "
                    "(between <!-- results:begin --> and <!-- results:end -->)")
    a = ap.parse_args()

    binary = find_binary(a.binary)
    onednn = None if a.no_onednn else find_onednn_binary(a.onednn_binary, binary)
    onednn_env = {"OMP_WAIT_POLICY": a.onednn_wait_policy} if a.onednn_wait_policy else {}
    torch_script = os.path.join(ROOT, "bench", "torch_rnn_bench.py")
    threads = [int(t) for t in a.threads.split(",") if t]
    cells = [c for c in a.cells.split(",") if c]
    for c in cells:
        if c not in CELLS:
            sys.exit("run_benchmarks: unknown cell '%s' (known: %s)" % (c, ", ".join(CELLS)))
    points = ([tuple(int(v) for v in p.split(":")) for p in a.points.split(",")] if a.points else grid(a.quick))
    os.makedirs(a.out, exist_ok=True)
    log = open(os.path.join(a.out, "commands.log"), "w")
    raw = open(os.path.join(a.out, "raw.jsonl"), "w")
    t_start = time.time()
    try:  # the source revision the run starts from (the binary may be older: rebuild first)
        rev = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True,
                             text=True).stdout.strip() or "?"
    except OSError:
        rev = "?"
    budget = a.max_seconds if a.max_seconds >= 0 else (3.0 if a.quick else 10.0)
    # The machine's single-thread FMA peak, once, in a fresh process, before anything else runs.
    peak_recs = run([binary, "--metric", "fma_peak", "--threads", "1"], {}, log)
    for r in peak_recs:
        r["side_config"] = "fma_peak"
        raw.write(json.dumps(r) + "\n")
    peak = next((r["gflops"] for r in peak_recs if r.get("metric") == "fma_peak"), None)
    print("FMA peak (1 thread): %s GFLOP/s" % fmt(peak), flush=True)
    gathered = {}  # (cell,b,t,h,thr) -> {side: {metric: [record per round]}}
    for rnd in range(a.rounds):
        for (cell, (b, t, h)) in [(c, p) for c in cells for p in points]:
            reps, warmup = reps_for(b, t, h, a.quick, a.reps, a.warmup, GATES[cell])
            for thr in threads:
                common = ["--cell", cell, "--batch", str(b), "--seq", str(t), "--hidden", str(h), "--input", "100",
                          "--threads", str(thr), "--reps", str(reps), "--warmup", str(warmup),
                          "--max-seconds", str(budget), "--metric", "all"]
                print("round %d  %s B=%d T=%d d=%d threads=%d reps=%d warmup=%d  [%.0fs]" % (
                    rnd + 1, cell, b, t, h, thr, reps, warmup, time.time() - t_start), flush=True)
                sides = [
                    ("reel", [binary] + common, {}),
                    ("best", [a.python, torch_script] + common + ["--flush-denormal", "--config", "best"], BEST_ENV),
                    ("installed", [a.python, torch_script] + common + ["--config", "installed"], {}),
                ]
                if onednn and cell in ONEDNN_CELLS:
                    sides.append(("onednn", [onednn] + common, onednn_env))
                k = rnd % len(sides)
                slot = gathered.setdefault((cell, b, t, h, thr), {})
                for name, cmd, env in sides[k:] + sides[:k]:  # rotate who goes first each round
                    for r in run(cmd, env, log):
                        r["side_config"] = name
                        r["round"] = rnd + 1
                        raw.write(json.dumps(r) + "\n")
                        slot.setdefault(name, {}).setdefault(r["metric"], []).append(r)
                    raw.flush()
                got = {n: {m: pooled(v) for m, v in slot.get(n, {}).items()} for n in SIDES}
                print("   " + "  ".join("%s %s/%s/%s" % (m, fmt(value(got["reel"].get(m), m)),
                                                         fmt(value(got["best"].get(m), m)),
                                                         fmt(value(onednn_record(got, m), m)))
                                        for m in METRICS)
                      + "   (reel/PyTorch best/oneDNN)", flush=True)
    results = {key: {n: {m: pooled(v) for m, v in slot.get(n, {}).items()} for n in SIDES}
               for key, slot in gathered.items()}
    elapsed = time.time() - t_start

    # ---- CSV
    rows = []
    for (cell, b, t, h, thr), sides in results.items():
        for m in METRICS:
            rv = value(sides["reel"].get(m), m)
            pv = value(sides["best"].get(m), m)
            iv = value(sides["installed"].get(m), m)
            ov = value(onednn_record(sides, m), m)
            ratio = rv / pv if rv is not None and pv else None
            ratio_o = rv / ov if rv is not None and ov else None
            rows.append(dict(cell=cell, batch=b, seq_len=t, hidden=h, threads=thr, metric=m,
                             reel_ms="" if rv is None else "%.4f" % rv,
                             pytorch_ms="" if pv is None else "%.4f" % pv,
                             pytorch_installed_ms="" if iv is None else "%.4f" % iv,
                             ratio="" if ratio is None else "%.4f" % ratio,
                             onednn_ms="" if ov is None else "%.4f" % ov,
                             ratio_onednn="" if ratio_o is None else "%.4f" % ratio_o))
    with open(os.path.join(a.out, "results.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["cell", "batch", "seq_len", "hidden", "threads", "metric", "reel_ms", "pytorch_ms",
                                          "pytorch_installed_ms", "ratio", "onednn_ms", "ratio_onednn"])
        w.writeheader()
        w.writerows(rows)

    # ---- markdown
    def first(side, key):
        for sides in results.values():
            for rec in sides[side].values():
                if key in rec:
                    return rec[key]
        return "?"

    cmd = "bench/run_benchmarks.py" + (" --quick" if a.quick else "") + \
          ("" if a.threads == "1,2" else " --threads " + a.threads) + \
          ("" if cells == CELLS else " --cells " + ",".join(cells)) + (" --reps %d" % a.reps if a.reps else "") + \
          (" --rounds %d" % a.rounds if a.rounds != 1 else "") + \
          (" --points " + a.points if a.points else "")
    md = []
    md.append("Measured %s on %s (%d cores, Linux %s, load average %.1f at the end), tree at git %s when the run started; "
              "cells {%s} x %d points x threads {%s}, %d round(s), %.0f s in all. Command: `%s`." % (
                  datetime.date.today().isoformat(), cpu_model(), os.cpu_count() or 0, platform.release(),
                  os.getloadavg()[0], rev, ",".join(cells), len(points), ",".join(map(str, threads)), a.rounds,
                  elapsed, cmd))
    md.append("")
    md.append("- reel kernel: `%s`" % first("reel", "kernel"))
    md.append("- PyTorch %s best configuration kernel (OMP_WAIT_POLICY=PASSIVE, OPENBLAS_CORETYPE=SkylakeX, "
              "set_flush_denormal): `%s`" % (first("best", "torch_version"), first("best", "kernel")))
    md.append("- PyTorch as installed kernel (default environment): `%s`" % first("installed", "kernel"))
    if any(sd["onednn"] for sd in results.values()):
        md.append("- oneDNN: `%s`; weights reordered once into the primitives' layouts outside the timing; "
                  "fwd+bwd includes the input's gradient, which reel and PyTorch do not compute" % first("onednn", "kernel"))
    md.append("- Machine FMA peak, 1 thread (bench/fma_peak.h, AVX-512 FMA throughput loop): %s GFLOP/s; "
              "N threads: N x that" % fmt(peak))
    md.append("- Times: median of the timed reps after warm-up, in ms; spread = (min–max) over the same reps; "
              "* = the per-metric time budget (%g s) cut the reps short (at least 3 kept unless one rep took "
              "over 3x the budget). Peak: VmHWM − VmRSS (MiB) over 2 forward+backward iterations in a fresh "
              "process, after the model and input exist and the high-water mark is reset; for reel the tape's "
              "own TapeStats::peak_bytes (values + gradients) is shown beside it." % budget)
    md.append("- Ratio = reel / PyTorch best: below 1 means reel is faster (or smaller).")
    md.append("")
    md.append("### Ratios (reel / PyTorch best)")
    md.append("")
    md.append("| cell | batch | seq | hidden | threads | forward | fwd+bwd | train step | peak mem |")
    md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    ratio_of = {(r["cell"], int(r["batch"]), int(r["seq_len"]), int(r["hidden"]), int(r["threads"]), r["metric"]):
                r["ratio"] for r in rows}
    all_ratios = {c: {m: [] for m in METRICS} for c in cells}
    for (cell, b, t, h, thr) in results:
        row = []
        for m in METRICS:
            v = ratio_of.get((cell, b, t, h, thr, m), "")
            row.append("%.2f" % float(v) if v else "—")
            if v:
                all_ratios[cell][m].append(float(v))
        md.append("| %s | %d | %d | %d | %d | %s |" % (cell, b, t, h, thr, " | ".join(row)))
    md.append("")
    for cell in cells:
        if any(all_ratios[cell].values()):
            md.append("Median ratio over the grid, %s: " % cell + ", ".join(
                "%s %.2f (range %.2f–%.2f)" % (m, statistics.median(v), min(v), max(v))
                for m, v in all_ratios[cell].items() if v) + ".")
            md.append("")
    # ---- the issue's targets: best thread count of each side, per point
    md.append("### Targets: training step at each side's best thread count")
    md.append("")
    md.append("Per point and cell, the faster of the thread counts run for reel against the faster for PyTorch "
              "best. Targets: rnn ratio ≤ 0.5 at hidden ≤ 256, ≤ 0.7 at hidden 512–1024, ≤ 0.15 at batch 1 "
              "(per-step overhead); lstm and gru ≤ 0.7 at hidden ≤ 512 (none at 1024).")
    md.append("")
    md.append("| cell | batch | seq | hidden | reel ms (threads) | PyTorch best ms (threads) | ratio | target | met |")
    md.append("|---|---:|---:|---:|---:|---:|---:|---:|:---:|")
    by_point = {}
    for (cell, b, t, h, thr), sides in results.items():
        by_point.setdefault((cell, b, t, h), {})[thr] = sides
    met_all = {c: True for c in cells}
    best_ratios = {c: [] for c in cells}
    stretch = 0
    for (cell, b, t, h), per_thr in by_point.items():
        def best_of(side):
            cands = [(value(sd[side].get("train_step"), "train_step"), thr) for thr, sd in per_thr.items()]
            cands = [c for c in cands if c[0] is not None]
            return min(cands) if cands else (None, None)
        (rv, rt), (pv, pt) = best_of("reel"), best_of("best")
        if rv is None or not pv:
            continue
        ratio = rv / pv
        target = target_for(cell, b, h)
        ok = target is None or ratio <= target
        met_all[cell] = met_all[cell] and ok
        best_ratios[cell].append(ratio)
        stretch += (cell == "rnn" and h <= 256 and ratio <= 0.5)
        md.append("| %s | %d | %d | %d | %s (%d) | %s (%d) | %.2f | %s | %s |" % (
            cell, b, t, h, fmt(rv), rt, fmt(pv), pt, ratio, "—" if target is None else "≤ %.2g" % target,
            "—" if target is None else ("yes" if ok else "**no**")))
    md.append("")
    for cell in cells:
        br = best_ratios[cell]
        if not br:
            continue
        extra = ""
        if cell == "rnn":
            extra = "; %d of %d points with hidden ≤ 256 at ≤ 0.5 (2x faster)" % (
                stretch, sum(1 for (c, b, t, h) in by_point if c == "rnn" and h <= 256))
        md.append("Training step at best thread counts, %s: median ratio %.2f (range %.2f–%.2f); target %s at every "
                  "point%s." % (cell, statistics.median(br), min(br), max(br),
                                "met" if met_all[cell] else "**not met**", extra))
        md.append("")
    eff = []
    for (cell, b, t, h, thr), sides in results.items():
        g = sides["reel"].get("sgemm", {})
        rf = sides["reel"].get("forward", {}).get("gflops")
        if h >= 512 and rf and g.get("floor_gflops"):
            eff.append((cell, b, t, h, thr, 100 * rf / g["floor_gflops"]))
    if eff:
        md.append("Forward at hidden ≥ 512 against the sgemm floor at the recurrence's shapes (same threads; "
                  "target ≥ 70%% for rnn): %s." % ", ".join("%s B%d T%d d%d %dt %.0f%%" % e for e in eff))
        md.append("")
    # ---- oneDNN's own primitives: the issue's yardstick
    if any(sd["onednn"] for sd in results.values()):
        md.append("### Against oneDNN's RNN primitives (reel / oneDNN)")
        md.append("")
        md.append("Training step against oneDNN's forward+backward. Targets (B=32 T=100 at hidden 128-1024, and "
                  "B=128 hidden 256): rnn ≤ 0.85 at 1 thread and ≤ 1.0 at 2; lstm ≤ 0.9 at 1 thread, hidden 256 "
                  "and 512.")
        md.append("")
        md.append("| cell | batch | seq | hidden | threads | oneDNN fwd ms | oneDNN fwd+bwd ms | forward | fwd+bwd | "
                  "train step / oneDNN fwd+bwd | target | met |")
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|")
        for (cell, b, t, h, thr), sides in results.items():
            if not sides["onednn"]:
                continue
            rats = []
            for m in ("forward", "forward_backward", "train_step"):
                rv, ov = value(sides["reel"].get(m), m), value(onednn_record(sides, m), m)
                rats.append(rv / ov if rv is not None and ov else None)
            target = None
            if t == 100 and ((b == 32 and h >= 128) or (b == 128 and h == 256)):
                if cell == "rnn":
                    target = 0.85 if thr == 1 else 1.0
                elif cell == "lstm" and thr == 1 and h in (256, 512) and b == 32:
                    target = 0.9
            met = "—" if target is None or rats[2] is None else ("yes" if rats[2] <= target else "**no**")
            md.append("| %s | %d | %d | %d | %d | %s | %s | %s | %s | %s | %s | %s |" % (
                cell, b, t, h, thr, spread(sides["onednn"].get("forward")),
                spread(sides["onednn"].get("forward_backward")),
                *["—" if v is None else "%.2f" % v for v in rats], "—" if target is None else "≤ %.2g" % target, met))
        md.append("")
    md.extend(issue_targets(results, peak))
    # ---- GFLOP/s of every side against the machine's FMA peak
    if peak:
        md.append("### GFLOP/s against the FMA peak (%s GFLOP/s per thread)" % fmt(peak))
        md.append("")
        md.append("FLOPs of the GEMM work each does: forward F = 2·B·T·G·(n·d + d·d); fwd+bwd and the training step "
                  "3F − 2·B·T·G·n·d (no input gradient); oneDNN's fwd+bwd 3F (with it). % = of threads x peak.")
        md.append("")
        md.append("| cell | batch | seq | hidden | threads | reel fwd | PyTorch best fwd | oneDNN fwd | reel fwd+bwd | "
                  "oneDNN fwd+bwd | reel train step |")
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for (cell, b, t, h, thr), sides in results.items():
            def g(side, m, rec):
                v = value(rec, m)
                if v is None:
                    return "—"
                gf = flops_of(side, m, b, t, h, cell) / (v * 1e6)
                return "%s (%.0f%%)" % (fmt(gf), 100 * gf / (peak * thr))
            md.append("| %s | %d | %d | %d | %d | %s |" % (cell, b, t, h, thr, " | ".join([
                g("reel", "forward", sides["reel"].get("forward")),
                g("best", "forward", sides["best"].get("forward")),
                g("onednn", "forward", sides["onednn"].get("forward")),
                g("reel", "forward_backward", sides["reel"].get("forward_backward")),
                g("onednn", "forward_backward", sides["onednn"].get("forward_backward")),
                g("reel", "train_step", sides["reel"].get("train_step"))])))
        md.append("")
    md.append("### Times (ms, median (min–max)) and peak memory (MiB)")
    md.append("")
    md.append("| cell | batch | seq | hidden | threads | metric | reel | PyTorch best | PyTorch installed | ratio | "
              "oneDNN | reel / oneDNN |")
    md.append("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for (cell, b, t, h, thr), sides in results.items():
        for m in METRICS:
            r, p, i = (sides[s].get(m) for s in ("reel", "best", "installed"))
            o = onednn_record(sides, m)
            rat = ratio_of.get((cell, b, t, h, thr, m), "")
            rv, ov = value(r, m), value(o, m)
            if m == "peak_mib":
                rc = fmt(value(r, m)) + (" (tape %s)" % fmt(r["tape_peak_mib"]) if r and "tape_peak_mib" in r else "")
                row = [rc, fmt(value(p, m)), fmt(value(i, m))]
            else:
                row = [spread(r), spread(p), spread(i)]
            md.append("| %s | %d | %d | %d | %d | %s | %s | %s | %s | %s |" % (
                cell, b, t, h, thr, m, " | ".join(row), "%.2f" % float(rat) if rat else "—",
                spread(o) + (" (fwd+bwd)" if m == "train_step" and o else ""),
                "%.2f" % (rv / ov) if rv is not None and ov else "—"))
    md.append("")
    md.append("### Forward GFLOP/s (useful FLOPs 2·B·T·G·(n·d + d·d)) beside raw sgemm at the same shapes")
    md.append("")
    md.append("G = gate blocks (rnn 1, lstm 4, gru 3). sgemm columns time reel::blas::gemm alone: the recurrent "
              "(B×d)·(d×G·d), the input projection (B·T×n)·(n×G·d), and the forward's GEMM floor (one input "
              "GEMM + T recurrent GEMMs).")
    md.append("")
    md.append("| cell | batch | seq | hidden | threads | reel fwd | PyTorch best fwd | PyTorch installed fwd | "
              "sgemm recurrent | sgemm input | GEMM floor | reel / floor |")
    md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (cell, b, t, h, thr), sides in results.items():
        g = sides["reel"].get("sgemm", {})
        rf = sides["reel"].get("forward", {}).get("gflops")
        fl = g.get("floor_gflops")
        md.append("| %s | %d | %d | %d | %d | %s | %s | %s | %s | %s | %s | %s |" % (
            cell, b, t, h, thr, fmt(rf, 1), fmt(sides["best"].get("forward", {}).get("gflops"), 1),
            fmt(sides["installed"].get("forward", {}).get("gflops"), 1), fmt(g.get("recurrent_gflops"), 1),
            fmt(g.get("input_gflops"), 1), fmt(fl, 1), "%.0f%%" % (100 * rf / fl) if rf and fl else "—"))
    md_text = "\n".join(md) + "\n"
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write(md_text)
    print()
    print(md_text)
    print("wrote %s/{results.csv,results.md,raw.jsonl,commands.log}" % a.out)

    if a.docs:
        with open(a.docs) as f:
            doc = f.read()
        begin, end = "<!-- results:begin -->", "<!-- results:end -->"
        if begin in doc and end in doc:
            doc = doc[:doc.index(begin) + len(begin)] + "\n" + md_text + doc[doc.index(end):]
            with open(a.docs, "w") as f:
                f.write(doc)
            print("updated", a.docs)
        else:
            print("run_benchmarks: %s has no %s ... %s section; not updated" % (a.docs, begin, end), file=sys.stderr)


if __name__ == "__main__":
    main()
