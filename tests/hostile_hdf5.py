#!/usr/bin/python3
"""Hostile edits of a real checkpoint, re-sealed as docs/checkpoint-format.md allows, given to
`inspect` and `evaluate`: each must end with a clear error (exit 1, the file and the object
named, nothing printed by HDF5), within a bounded time (no hang), and no large allocation.
  hostile_hdf5.py BUILD_DIR SOURCE_DIR
"""
import os
import resource
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

build, source = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(source, "tools"))
from torch_interop import seal  # noqa: E402

tmp = tempfile.mkdtemp(prefix="reel-hostile-")
good = os.path.join(tmp, "good.h5")
subprocess.run([os.path.join(build, "examples", "train_classifier"), "--limit", "300", "--dev-size", "100", "--epochs", "1",
                "--hidden", "16", "--checkpoint", good], check=True, capture_output=True, cwd=source)


def variant(name, edit):
    path = os.path.join(tmp, name + ".h5")
    shutil.copy(good, path)
    with h5py.File(path, "r+") as f:
        edit(f)
    seal(path)
    return path


fifo = os.path.join(tmp, "fifo")
os.mkfifo(fifo)


def vlen(f):
    f["config"].attrs["cell"] = "rnn"  # h5py writes str as a variable-length string


def external(f):
    del f["parameters/head.b"]
    f["parameters/head.b"] = h5py.ExternalLink(fifo, "/x")


def soft(f):
    del f["parameters/head.b"]
    f["parameters/head.b"] = h5py.SoftLink("/parameters/head.W")


def compressed(f):
    w = f["parameters/head.W"][...]
    del f["parameters/head.W"]
    f.create_dataset("parameters/head.W", data=w, compression="gzip")


def unallocated(f):
    shape, dtype = f["parameters/head.W"].shape, f["parameters/head.W"].dtype
    del f["parameters/head.W"]
    f.create_dataset("parameters/head.W", shape=shape, dtype=dtype)  # never written: no storage


def huge(f):
    del f["parameters/head.W"]
    f.create_dataset("parameters/head.W", shape=(1 << 20, 1 << 20), dtype="f4")  # 4 TiB of nothing


def big_config(f):
    f["config"].attrs["hidden_dim"] = np.int64(1 << 62)



cases = [("big_config", big_config, "hidden_dim = 4611686018427387904 exceeds the limit of 16777216"),
         ("vlen", vlen, "a variable-length string"), ("external", external, "an external link"),
         ("soft", soft, "a soft link"), ("compressed", compressed, "stored in chunks"),
         ("unallocated", unallocated, "0 bytes stored"), ("huge", huge, "")]
failures = 0
for name, edit, expected in cases:
    path = variant(name, edit)
    cmds = [["inspect", "--file", path], ["evaluate", "--checkpoint", path, "--limit", "10"]]
    if name == "big_config":  # inspect shows a configuration as it is; building the model must refuse it
        cmds = cmds[1:]
    for cmd in cmds:
        try:
            r = subprocess.run([os.path.join(build, "examples", cmd[0])] + cmd[1:], capture_output=True, text=True,
                               timeout=60, cwd=source)
        except subprocess.TimeoutExpired:
            print(f"FAIL {name} {cmd[0]}: hung (60 s)")
            failures += 1
            continue
        ok = r.returncode == 1 and path in r.stderr and expected in r.stderr and "HDF5-DIAG" not in r.stderr
        if name == "huge":  # refused one way or another, naming the dataset
            ok = r.returncode == 1 and "head.W" in r.stderr and "HDF5-DIAG" not in r.stderr
        print(("ok  " if ok else "FAIL") + f" {name:12s} {cmd[0]:9s} exit {r.returncode}: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ''}")
        failures += not ok
# No run allocated what a header claimed (the "huge" dataset is 4 TiB): the largest child's peak.
peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"largest peak RSS of a run: {peak_mib:.0f} MiB")
if peak_mib > 2048:
    print("FAIL a run used more than 2 GiB")
    failures += 1
shutil.rmtree(tmp)
sys.exit(1 if failures else 0)
