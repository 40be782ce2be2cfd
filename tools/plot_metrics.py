#!/usr/bin/python3
"""Plots a reel metrics CSV (one row per epoch) to a PNG: losses on one panel, accuracies on
another, throughput on a third. Usage: /usr/bin/python3 tools/plot_metrics.py runs/tagger.csv [-o out.png]"""
import argparse
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("csv")
    p.add_argument("-o", "--out", default=None, help="PNG path (default: the CSV's path with .png)")
    a = p.parse_args()
    with open(a.csv, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or "epoch" not in rows[0]:
        sys.exit(f"{a.csv}: expected a CSV with a header row and an 'epoch' column")
    epochs = [float(r["epoch"]) for r in rows]
    panels = [("loss", [k for k in rows[0] if "loss" in k]),
              ("accuracy", [k for k in rows[0] if "accuracy" in k]),
              ("throughput", [k for k in rows[0] if "per_second" in k])]
    panels = [(t, ks) for t, ks in panels if ks]
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6), squeeze=False)
    for ax, (title, keys) in zip(axes[0], panels):
        for k in keys:
            ax.plot(epochs, [float(r[k]) for r in rows], marker="o", label=k)
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(a.csv)
    fig.tight_layout()
    out = a.out or a.csv.rsplit(".", 1)[0] + ".png"
    fig.savefig(out, dpi=110)
    print(out)


if __name__ == "__main__":
    main()
