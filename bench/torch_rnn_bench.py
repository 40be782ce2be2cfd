#!/usr/bin/python3
"""PyTorch twin of bench/bench_rnn.cpp: the same metrics, shapes, repetitions and JSON lines.

--cell rnn (default): nn.RNN(input, hidden, batch_first=True) (tanh, one layer); --cell lstm / gru:
nn.LSTM / nn.GRU(input, hidden, batch_first=True) (one layer); + nn.Linear(hidden, classes) head,
float32, CPU. Metrics (--metric all, or a comma list):
  peak_mib          forward + backward of output.sum(), 2 iterations, measured FIRST in this fresh
                    process: VmHWM - VmRSS from /proc/self/status after model and input exist and the
                    high-water mark is reset (echo 5 > /proc/self/clear_refs).
  forward           rnn(x) under torch.inference_mode().
  forward_backward  output, h_n = rnn(x); output.sum().backward().
  train_step        zero_grad; logits = head(h_n[0]) (LSTM: h of (h_n, c_n)); cross_entropy; backward; SGD step.
Threads: torch.set_num_threads(N) and, unless --torch-threads-only, the OpenBLAS pool that torch's
float GEMMs run on (Debian's torch links OpenBLAS; torch.set_num_threads does not reach it).
Configuration knobs read from the environment (set them before starting Python): OMP_WAIT_POLICY,
OPENBLAS_CORETYPE; --flush-denormal calls torch.set_flush_denormal(True).
Run with Debian's /usr/bin/python3 (torch 1.13).
"""
import argparse
import ctypes
import ctypes.util
import json
import os
import re
import sys
import time


def status_kb(key):
    with open("/proc/self/status") as f:
        m = re.search(r"^" + key + r":\s+(\d+)", f.read(), re.M)
    return float(m.group(1)) if m else -1.0


def reset_hwm():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def find_openblas():
    """The OpenBLAS library mapped into this process (torch's BLAS), as a ctypes handle, or None."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line and "/" in line}
    except OSError:
        paths = set()
    for p in sorted(paths):
        try:
            lib = ctypes.CDLL(p)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            lib.openblas_get_config.restype = ctypes.c_char_p
            return p, lib
        except (OSError, AttributeError):
            continue
    return None, None


def kernel_description(lib, path):
    parts = []
    if lib is not None:
        parts.append("%s core=%s" % (lib.openblas_get_config().decode(), lib.openblas_get_corename().decode()))
    else:
        try:
            import threadpoolctl  # noqa: F401
            info = threadpoolctl.threadpool_info()
            parts.append(";".join("%s %s %s" % (i.get("internal_api"), i.get("version"), i.get("architecture"))
                                  for i in info))
        except ImportError:
            parts.append("OPENBLAS_CORETYPE=%s" % os.environ.get("OPENBLAS_CORETYPE", "(unset)"))
    return " ".join(parts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cell", default="rnn", choices=["rnn", "lstm", "gru"],
                    help="nn.RNN (tanh), nn.LSTM or nn.GRU, one layer, batch_first")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=100)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--input", type=int, default=100)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--max-seconds", type=float, default=0.0,
                    help="per-metric time budget in s (0: none); reps then stop early, >= 3 kept")
    ap.add_argument("--metric", default="all")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--flush-denormal", action="store_true", help="torch.set_flush_denormal(True)")
    ap.add_argument("--torch-threads-only", action="store_true",
                    help="only torch.set_num_threads; leave OpenBLAS's own thread count alone")
    ap.add_argument("--config", default="", help="label copied into the JSON lines")
    a = ap.parse_args()

    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    metrics = a.metric.split(",")
    if metrics == ["all"]:
        metrics = ["peak_mib", "forward", "forward_backward", "train_step"]
    for m in metrics:
        if m not in ("peak_mib", "forward", "forward_backward", "train_step"):
            sys.exit("torch_rnn_bench: unknown metric '%s'" % m)
    metrics.sort(key=lambda m: m != "peak_mib")  # peak first: the process is fresh only once

    torch.set_num_threads(a.threads)
    torch.zeros(4, 4) @ torch.zeros(4, 4)  # loads the BLAS, so it shows up in /proc/self/maps
    blas_path, blas = find_openblas()
    if blas is not None and not a.torch_threads_only:
        blas.openblas_set_num_threads(a.threads)
    blas_threads = blas.openblas_get_num_threads() if blas is not None else -1
    if a.flush_denormal:
        torch.set_flush_denormal(True)

    torch.manual_seed(a.seed)
    B, T, n, d, C = a.batch, a.seq, a.input, a.hidden, a.classes
    G = {"rnn": 1, "lstm": 4, "gru": 3}[a.cell]  # gate blocks of the projections
    rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[a.cell](n, d, batch_first=True)
    head = nn.Linear(d, C)
    opt = torch.optim.SGD(list(rnn.parameters()) + list(head.parameters()), lr=0.01)
    x = torch.randn(B, T, n)
    y = torch.randint(0, C, (B,))
    sink = [0.0]

    def forward():
        with torch.inference_mode():
            out, h = rnn(x)
        sink[0] = out[0, 0, 0]

    def forward_backward():
        out, h = rnn(x)
        loss = out.sum()
        loss.backward()
        sink[0] = loss.detach()

    def train_step():
        opt.zero_grad(set_to_none=True)
        out, h = rnn(x)
        if a.cell == "lstm":
            h = h[0]  # (h_n, c_n)
        loss = F.cross_entropy(head(h[0]), y)
        loss.backward()
        opt.step()
        sink[0] = loss.detach()

    kernel = kernel_description(blas, blas_path)
    common = dict(side="pytorch", cell=a.cell, config=a.config, batch=B, seq_len=T, hidden=d, input=n,
                  threads=a.threads, reps=a.reps, warmup=a.warmup, torch_threads=torch.get_num_threads(),
                  openblas_threads=blas_threads,
                  omp_wait_policy=os.environ.get("OMP_WAIT_POLICY", ""),
                  openblas_coretype=os.environ.get("OPENBLAS_CORETYPE", ""), flush_denormal=bool(a.flush_denormal),
                  kernel=kernel, torch_version=torch.__version__)
    fwd_flops = 2.0 * B * T * G * (n * d + d * d)

    for m in metrics:
        if m == "peak_mib":
            reset = reset_hwm()
            base = status_kb("VmRSS")
            for _ in range(2):
                forward_backward()
            hwm = status_kb("VmHWM")
            rnn.zero_grad(set_to_none=True)
            print(json.dumps(dict(common, metric=m, peak_mib=(hwm - base) / 1024.0, vmhwm_mib=hwm / 1024.0,
                                  baseline_rss_mib=base / 1024.0, hwm_reset=int(reset))), flush=True)
            continue
        fn = {"forward": forward, "forward_backward": forward_backward, "train_step": train_step}[m]
        rnn.zero_grad(set_to_none=True)
        # Same budget rule as bench_rnn.cpp's time_it.
        budget = a.max_seconds * 1000.0
        w0 = time.perf_counter()
        for _ in range(a.warmup):
            fn()
            if budget > 0 and (time.perf_counter() - w0) * 1000.0 > budget:
                break
        samples = []
        for _ in range(a.reps):
            t0 = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - t0) * 1000.0)
            total = sum(samples)
            if budget > 0 and ((total > budget and len(samples) >= 3) or total > 3 * budget):
                break
        ms = sorted(samples)
        ms.sort()
        k = len(ms)
        med = ms[k // 2] if k % 2 else 0.5 * (ms[k // 2 - 1] + ms[k // 2])
        rec = dict(common, metric=m, median_ms=med, min_ms=ms[0], max_ms=ms[-1], reps_done=len(samples),
                   samples_ms=[round(v, 4) for v in samples])
        if m == "forward":
            rec["gflops"] = fwd_flops / (med * 1e6)
        print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
