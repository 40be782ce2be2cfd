#!/usr/bin/env bash
# Faults in data-parallel training: a rank that throws or is killed ends the whole run with a
# clear error and a non-zero exit within a bounded time (no hang), the last checkpoint stays
# loadable, and a rank started with another configuration is refused at start-up.
#   faults.sh <distributed_worker> <mpiexec> <np>
set -uo pipefail
worker=$1 mpiexec=$2 np=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_orte_base_help_aggregate=0 OPENBLAS_NUM_THREADS=1
run() { timeout 120 "$mpiexec" --allow-run-as-root --oversubscribe --mca btl self,vader -np "$np" "$worker" --distributed "$@"; }
fail() { echo "FAIL: $*"; cat "$dir/err" 2>/dev/null | tail -20; exit 1; }

for fault in throw kill; do
  start=$(date +%s)
  run --checkpoint "$dir/$fault.h5" --fault "$fault" --fault-rank $((np - 1)) --fault-step 12 --steps 400 > "$dir/out" 2> "$dir/err"
  rc=$? took=$(( $(date +%s) - start ))
  [ "$rc" -ne 0 ] || fail "$fault: the run exited 0"
  [ "$rc" -ne 124 ] || fail "$fault: the run hung (timeout)"
  [ "$took" -lt 60 ] || fail "$fault: took ${took}s to stop"
  if [ "$fault" = throw ]; then
    grep -q "error: rank $((np - 1)): injected fault at step 12" "$dir/err" || fail "throw: no error naming the rank"
  else
    grep -qi "signal 9\|killed" "$dir/err" || fail "kill: mpirun did not report the killed rank"
  fi
  # The checkpoint saved before the fault (steps 5 and 10) is intact and loadable.
  "$worker" --verify "$dir/$fault.h5" > "$dir/verify" 2>> "$dir/err" || fail "$fault: checkpoint not loadable"
  grep -q '"step":10' "$dir/verify" || fail "$fault: expected the step-10 checkpoint, got $(cat "$dir/verify")"
  echo "ok: $fault on rank $((np - 1)) of $np: exit $rc after ${took}s, checkpoint at step 10 intact"
done

run --hidden-on-rank $((np - 1)) --steps 3 > "$dir/out" 2> "$dir/err"
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "mismatch: exit $rc"
grep -q "rank $((np - 1)): hidden_dim is 16, rank 0 has 12" "$dir/err" || fail "mismatch: the difference is not named"
echo "ok: a rank with hidden_dim 16 refused at start-up"

run --steps 12 > "$dir/out" 2> "$dir/err" || fail "a clean run failed"
grep -q "\"ranks\":$np" "$dir/out" || fail "clean run: no result line"
echo "ok: clean run on $np ranks"
