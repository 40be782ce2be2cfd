#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan: cmake --preset fuzz) and runs each for a
# bounded time (default 60 s; FUZZ_SECONDS) on a seed corpus made from real files: a checkpoint
# written by train_classifier (needs the release build), a Fashion-MNIST IDX file, UD EWT
# sentences. The inputs in tests/fuzz/regressions/<target>/ (crashes found before) run first.
# A crash, a hang (>10 s per input) or a sanitizer report fails the run; its input is kept in
# build-fuzz/crashes/<target>/ for tests/fuzz/regressions/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
cmake --preset fuzz > /dev/null
cmake --build --preset fuzz
work=build-fuzz/work
rm -rf "$work" && mkdir -p "$work"/{checkpoint,idx,conllu} build-fuzz/crashes
# Seeds from real files.
ckpt_dir=$(mktemp -d)
./build/examples/train_classifier --limit 200 --dev-size 50 --epochs 1 --hidden 4 --checkpoint "$ckpt_dir/c.h5" > /dev/null 2>&1
cp "$ckpt_dir/c.h5" "$work/checkpoint/sealed.h5"
tail -c +513 "$ckpt_dir/c.h5" > "$work/checkpoint/plain.h5"   # the same without the seal, as h5py writes
cp /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz "$work/idx/labels.gz"
gzip -dc /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz > "$work/labels"
head -c 2000 "$work/labels" > "$work/idx/labels_cut" && rm "$work/labels"
gzip -dc data/ud-english-ewt/en_ewt-ud-dev.conllu.gz > "$work/dev.conllu"
head -n 120 "$work/dev.conllu" > "$work/conllu/dev120.conllu" && rm "$work/dev.conllu"
gzip -c "$work/conllu/dev120.conllu" > "$work/conllu/dev120.conllu.gz"
rm -rf "$ckpt_dir"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
for t in checkpoint idx conllu; do
  crashes=build-fuzz/crashes/$t
  mkdir -p "$crashes"
  regressions=tests/fuzz/regressions/$t
  if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions")" ]; then
    ./build-fuzz/fuzz/fuzz_$t -runs=0 "$regressions"/* > "$work/$t.regressions.log" 2>&1 || { echo "fuzz_$t: a regression input fails"; status=1; }
  fi
  log="$work/$t.log"
  if ./build-fuzz/fuzz/fuzz_$t "$work/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2560 -max_len=65536 \
       -artifact_prefix="$crashes/" -print_final_stats=1 > "$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "fuzz_$t: ${seconds}s, ${execs:-?} executions, no crash"
  else
    echo "fuzz_$t: FAILED (input kept in $crashes):"; tail -30 "$log"; status=1
  fi
done
exit $status
