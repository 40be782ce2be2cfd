#!/usr/bin/env python3
"""Merges bench_gemm JSON outputs into docs/benchmarks.md's GEMM table: per shape class and thread
count, each backend's best GFLOP/s over every round of every file given (the least disturbed
measurement on a shared machine), the median of the rounds' medians beside it, the measured winner
and the pick of blas::auto_backend's rule (the "auto" field bench_gemm wrote).

  build/bench/bench_gemm --thread-counts 1 > g1.jsonl                       # both backends interleaved
  build/bench/bench_gemm --thread-counts 2 --backends openblas > g2o.jsonl  # at 2 threads, each backend in
  build/bench/bench_gemm --thread-counts 2 --backends onednn > g2d.jsonl    # its own process (see below)
  bench/gemm_table.py g1.jsonl g2o.jsonl g2d.jsonl

At 2 threads the backends are measured in separate processes: a threaded OpenBLAS call leaves its
workers spinning for ~0.1 s, and interleaved they take the second core from reel's pool.
"""
import json
import statistics
import sys


def main(files):
    rows, peaks = {}, []
    for f in files:
        for line in open(f):
            if not line.startswith("{"):
                continue
            r = json.loads(line)
            if r.get("metric") == "fma_peak":
                peaks.append(r["gflops"])
                continue
            if "class" not in r:
                continue
            key = (r["threads"], r["class"], r["op"], r["m"], r["n"], r["k"])
            d = rows.setdefault(key, {}).setdefault(r["backend"], {"best": 0.0, "medians": []})
            d["best"] = max(d["best"], r["gflops"])
            d["medians"].append(r["gflops_median"])
            rows[key]["auto"] = r["auto"]

    def g(v):
        return "%.0f" % v if v >= 100 else "%.1f" % v

    print("FMA peak, 1 thread: %s GFLOP/s (best of %d runs)." % (g(max(peaks)) if peaks else "?", len(peaks)))
    print()
    print("| threads | class | op | m | n | k | OpenBLAS GFLOP/s | oneDNN GFLOP/s | oneDNN / OpenBLAS | faster | auto picks |")
    print("|---:|---|---|---:|---:|---:|---:|---:|---:|---|---|")
    summary = {}
    for key in sorted(rows, key=lambda k: (k[0], list(rows).index(k))):
        v = rows[key]
        if "openblas" not in v or "onednn" not in v:
            continue
        ob, dn = v["openblas"], v["onednn"]
        ratio = dn["best"] / ob["best"]
        faster = "oneDNN" if ratio > 1 else "OpenBLAS"
        pick = v["auto"]
        got = dn["best"] if pick == "onednn" else ob["best"]
        s = summary.setdefault(key[0], [0, 0, []])
        s[0] += 1
        s[1] += (pick == "onednn") == (ratio > 1)
        s[2].append(got / max(dn["best"], ob["best"]))
        print("| %d | %s | %s | %d | %d | %d | %s (%s) | %s (%s) | %.2f | %s | %s |" % (
            key[0], key[1], key[2], key[3], key[4], key[5], g(ob["best"]), g(statistics.median(ob["medians"])),
            g(dn["best"]), g(statistics.median(dn["medians"])), ratio, faster, pick))
    print()
    for t, (n, agree, frac) in sorted(summary.items()):
        print("%d thread(s): the rule picks the faster backend in %d of %d classes; the pick's GFLOP/s is %.2f of the "
              "faster's in the median class, %.2f in the worst." % (t, agree, n, statistics.median(frac), min(frac)))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
