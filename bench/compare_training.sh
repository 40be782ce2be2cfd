#!/usr/bin/env bash
# Trains the classifier and the tagger with reel and with PyTorch, side by side on this machine,
# same threads, and prints each side's JSON line and the throughput ratio (reel / PyTorch).
# Usage: bench/compare_training.sh [EPOCHS] [THREADS]      (build first: cmake --preset release ...)
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-1}
threads=${2:-1}
export OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads
for task in classifier tagger; do
  reel=$(./build/examples/train_$task --epochs "$epochs" --threads "$threads" 2>/dev/null | tail -1)
  torch=$(/usr/bin/python3 bench/torch_train.py "$task" --epochs "$epochs" --threads "$threads" 2>/dev/null | tail -1)
  echo "reel    $reel"
  echo "pytorch $torch"
  /usr/bin/python3 - "$reel" "$torch" <<'PY'
import json, sys
r, t = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"{r['task']}: reel {r['sequences_per_second']:.0f} seq/s, PyTorch {t['sequences_per_second']:.0f} seq/s, "
      f"speed ratio {r['sequences_per_second'] / t['sequences_per_second']:.2f}x; test accuracy reel "
      f"{r['test_accuracy']:.4f} vs PyTorch {t['test_accuracy']:.4f}")
PY
done
