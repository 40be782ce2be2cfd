#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install what reel needs, build it, train the UD English
# EWT tagger on the shipped data (saving a checkpoint every epoch), reload the checkpoint in a new
# process and evaluate it. Extra arguments go to train_tagger (e.g. --epochs 10).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
cmake --preset release
cmake --build --preset release
mkdir -p runs
./build/examples/train_tagger --epochs 2 --checkpoint runs/tagger.h5 --metrics runs/tagger.csv "$@"
./build/examples/evaluate --checkpoint runs/tagger.best.h5 --split dev
