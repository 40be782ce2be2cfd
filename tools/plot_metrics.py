#!/usr/bin/python3
"""Plots every numeric column of a reel metrics CSV (one row per epoch) against the epoch, grouped
into panels (losses, accuracies, throughput, learning rate, anything else), and marks the best
epoch on every panel: by --best COLUMN, else dev_accuracy (highest), else the first dev/val loss
(lowest). Prints the PNG's path and the best epoch.
Usage: /usr/bin/python3 tools/plot_metrics.py runs/tagger.csv [-o out.png] [--best dev_accuracy]"""
import argparse
import csv
import math
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def numeric_columns(rows):
    cols = []
    for k in rows[0]:
        if k == "epoch":
            continue
        try:
            [float(r[k]) for r in rows]
        except (TypeError, ValueError):
            continue
        cols.append(k)
    return cols


def group(col):
    for title, words in (("loss", ("loss",)), ("accuracy", ("accuracy", "acc")),
                         ("throughput", ("per_second",)), ("learning rate", ("lr",)), ("time", ("seconds",))):
        if any(w == col or w in col.split("_") or (w == "per_second" and w in col) for w in words):
            return title
    return "other"


def best_epoch(rows, cols, best):
    if best:
        if best not in cols:
            sys.exit(f"--best {best}: not a numeric column (have {', '.join(cols)})")
        higher = "loss" not in best
    elif "dev_accuracy" in cols:
        best, higher = "dev_accuracy", True
    else:
        losses = [c for c in cols if "loss" in c and ("dev" in c or "val" in c)]
        if not losses:
            return None, None
        best, higher = losses[0], False
    values = [float(r[best]) for r in rows]
    i = max(range(len(values)), key=lambda k: values[k] if higher else -values[k])
    return i, best


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("csv")
    p.add_argument("-o", "--out", default=None, help="PNG path (default: the CSV's path with .png)")
    p.add_argument("--best", default=None, help="the column that picks the best epoch")
    a = p.parse_args()
    with open(a.csv, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or "epoch" not in rows[0]:
        sys.exit(f"{a.csv}: expected a CSV with a header row and an 'epoch' column")
    epochs = [float(r["epoch"]) for r in rows]
    cols = numeric_columns(rows)
    if not cols:
        sys.exit(f"{a.csv}: no numeric column besides 'epoch'")
    panels = {}
    for c in cols:
        panels.setdefault(group(c), []).append(c)
    order = ["loss", "accuracy", "throughput", "learning rate", "time", "other"]
    panels = [(t, panels[t]) for t in order if t in panels]
    best_i, best_col = best_epoch(rows, cols, a.best)
    n = len(panels)
    ncols = min(n, 3)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5 * ncols, 3.6 * nrows), squeeze=False)
    for ax, (title, keys) in zip(axes.flat, panels):
        for k in keys:
            ax.plot(epochs, [float(r[k]) for r in rows], marker="o", label=k)
        if best_i is not None:
            ax.axvline(epochs[best_i], color="tab:red", linestyle="--", alpha=0.6,
                       label=f"best epoch {epochs[best_i]:g} ({best_col})")
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.suptitle(a.csv)
    fig.tight_layout()
    out = a.out or a.csv.rsplit(".", 1)[0] + ".png"
    fig.savefig(out, dpi=110)
    print(out)
    if best_i is not None:
        print(f"best epoch {epochs[best_i]:g} by {best_col} = {float(rows[best_i][best_col]):g}")
    print("plotted: " + ", ".join(cols))


if __name__ == "__main__":
    main()
