#!/usr/bin/python3
"""Accuracy of reel and PyTorch on the real tasks, per cell, 3 seeds each, in one session.

Runs examples/train_tagger (UD English EWT UPOS, test accuracy at the best dev epoch of 10) and
examples/train_classifier (Fashion-MNIST row by row, test accuracy after 10 epochs at the best dev
epoch) next to bench/torch_train.py with the same settings, one process at a time (1 thread each),
and appends every JSON result line to --out. --summarize prints the table from such a file.

    /usr/bin/python3 bench/accuracy_grid.py --out runs/accuracy_grid.jsonl      # long: ~1 h on 2 cores
    /usr/bin/python3 bench/accuracy_grid.py --summarize runs/accuracy_grid.jsonl

The reel binaries are copied first, so rebuilding during a run does not mix versions.
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SETTINGS = [  # (task, cell, layers, bidirectional)
    ("tagger", "rnn", 1, False), ("tagger", "lstm", 1, False), ("tagger", "gru", 1, False),
    ("tagger", "lstm", 2, True), ("classifier", "lstm", 1, False), ("classifier", "gru", 1, False),
]


def key(r):
    task = "tagger" if r["task"] == "ud_ewt_upos" else "classifier"
    return (task, r["cell"], int(r["layers"]), bool(int(r["bidirectional"])))


def run(cmd, log):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", OMP_WAIT_POLICY="PASSIVE")
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=log, text=True, env=env, cwd=ROOT)
    if p.returncode != 0:
        raise SystemExit(f"failed ({p.returncode}): {' '.join(cmd)}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def grid(a):
    bins = tempfile.mkdtemp(prefix="reel-grid-")
    for name in ("train_tagger", "train_classifier"):
        shutil.copy2(os.path.join(ROOT, "build", "examples", name), bins)
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, stdout=subprocess.PIPE, text=True).stdout.strip()
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "a") as out, open(a.out + ".log", "a") as log:
        for task, cell, layers, bidir in SETTINGS:
            if task not in a.tasks or cell not in a.cells:
                continue
            for seed in a.seeds:
                flags = ["--epochs", str(a.epochs), "--seed", str(seed), "--cell", cell, "--layers", str(layers)]
                flags += ["--bidirectional"] if bidir else []
                for side in ("reel", "torch"):
                    if side == "reel":
                        cmd = [os.path.join(bins, "train_" + task), "--threads", "1"] + flags
                    else:
                        cmd = ["/usr/bin/python3", os.path.join(HERE, "torch_train.py"), task, "--threads", "1"] + flags
                    r = run(cmd, log)
                    r.update(side=side, seed=seed, revision=rev)
                    out.write(json.dumps(r) + "\n")
                    out.flush()
                    print(f"{side} {task} {cell} L{layers}{' bi' if bidir else ''} seed {seed}: "
                          f"test {r['test_accuracy']:.4f} ({r['seconds']:.0f} s)", file=sys.stderr, flush=True)


def summarize(paths):
    rows = {}
    for path in paths:
        for line in open(path):
            r = json.loads(line)
            rows.setdefault(key(r), {}).setdefault(r["side"], []).append(r)
    print("| task | model | reel test acc (3 seeds) | PyTorch test acc (3 seeds) | reel − PyTorch | reel seq/s | PyTorch seq/s |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for (task, cell, layers, bidir), sides in rows.items():
        def stat(side):
            v = [r["test_accuracy"] for r in sides.get(side, [])]
            return (statistics.mean(v), statistics.pstdev(v), len(v)) if v else (float("nan"), 0, 0)
        def rate(side):
            v = [r["sequences_per_second"] for r in sides.get(side, [])]
            return statistics.mean(v) if v else float("nan")
        (m1, s1, n1), (m2, s2, n2) = stat("reel"), stat("torch")
        name = f"{cell}{' ×%d' % layers if layers > 1 else ''}{' bidirectional' if bidir else ''}"
        print(f"| {task} | {name} | {m1:.4f} ± {s1:.4f} (n={n1}) | {m2:.4f} ± {s2:.4f} (n={n2}) | "
              f"{100 * (m1 - m2):+.2f} pt | {rate('reel'):.0f} | {rate('torch'):.0f} |")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=os.path.join(ROOT, "runs", "accuracy_grid.jsonl"))
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--tasks", nargs="+", default=["tagger", "classifier"], choices=["tagger", "classifier"],
                   help="run only these tasks (e.g. two processes, one per task, on two cores)")
    p.add_argument("--cells", nargs="+", default=["rnn", "lstm", "gru"], help="run only these cells")
    p.add_argument("--summarize", metavar="FILE", nargs="+", help="one or more result files")
    a = p.parse_args()
    if a.summarize:
        summarize(a.summarize)
    else:
        grid(a)
        summarize([a.out])


if __name__ == "__main__":
    main()
