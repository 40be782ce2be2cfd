#!/usr/bin/python3
"""PyTorch <-> reel checkpoints (layout: docs/checkpoint-format.md). Needs Debian's python3-torch
and python3-h5py (run with /usr/bin/python3).

  export  a PyTorch [nn.Embedding +] nn.RNN | nn.LSTM | nn.GRU (any num_layers, bidirectional or
          not, batch_first) + nn.Linear model into a reel checkpoint: from a saved state_dict
          (--state-dict, keys <embed>.weight, <rnn>.weight_ih_l0, ..., <head>.weight) or freshly
          initialised from --seed; --sample FILE also writes random inputs and PyTorch's outputs
          on them, for checking the C++ side.
  import  a reel checkpoint into PyTorch: --inputs/--out run the forward pass on an inputs file and
          write the outputs (repeatable: several checkpoints in one run); --state-dict saves it.
  seal    recompute the seal (512-byte header with a CRC-32) of a checkpoint edited in place, e.g.
          with h5py, so that reel accepts it again.

Mapping. reel stores weights (in, out), the transposes of PyTorch's. <P> is "rnn" for one layer
and one direction, else "rnn.l<k>" for layer k's forward direction and "rnn.l<k>_reverse" for its
reverse one; <s> is PyTorch's suffix "_l<k>" or "_l<k>_reverse".

  reel                      PyTorch                                   cells
  <P>.W_xh (in, G*hidden)   rnn.weight_ih<s>.T                        rnn (G=1), lstm (G=4), gru (G=3)
  <P>.W_hh (hidden, G*h)    rnn.weight_hh<s>.T                        all
  <P>.b_h  (G*hidden)       rnn.bias_ih<s> + rnn.bias_hh<s>           rnn, lstm (reel keeps the sum)
  <P>.b_x  (3*hidden)       rnn.bias_ih<s>                            gru (kept apart: b_hn sits inside r*(.))
  <P>.b_h  (3*hidden)       rnn.bias_hh<s>                            gru
  embed.weight              embed.weight (same)
  head.W (D*hidden, C)      head.weight.T
  head.b                    head.bias

Gate blocks are in PyTorch's order in both (LSTM i, f, g, o; GRU r, z, n). Importing an rnn or
lstm puts reel's single b_h in bias_ih and zeros in bias_hh (the same function). Layer k > 0 reads
the previous layer's outputs, both directions side by side (in = D*hidden). A classifier's head
reads the top layer's final h of each direction side by side (forward, reverse), a tagger's the
top layer's output at every step.

Inputs/outputs files (HDF5): "x" (batch, time, features) float or "ids" (batch, time) int64, and
"lengths" (batch) int64; outputs "logits": (batch, classes) for a classifier (its final hidden
state of each sequence), (batch, time, classes) for a tagger, zero past each sequence's length.
"""
import argparse
import os
import sys
import zlib

import h5py
import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

SEAL_BYTES = 512
SEAL_MAGIC = b"reel-checkpoint-seal 1\n"
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
FORMAT_VERSION = 2          # written
READABLE_VERSIONS = (1, 2)  # read; version 1 has no cell/num_layers/bidirectional (a 1-layer vanilla RNN)
CONFIG_INTS = ("input_dim", "vocab_size", "embed_dim", "hidden_dim", "num_classes", "num_layers", "bidirectional")
MODULES = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class ReelModel(nn.Module):
    """The same model as reel's SequenceClassifier / SequenceTagger."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = dict(cfg)
        if cfg["cell"] not in MODULES:
            raise SystemExit(f"cell '{cfg['cell']}': PyTorch has no such module (this tool moves {', '.join(MODULES)})")
        if cfg["vocab_size"] > 0:
            self.embed = nn.Embedding(cfg["vocab_size"], cfg["embed_dim"])
            in_dim = cfg["embed_dim"]
        else:
            self.embed = None
            in_dim = cfg["input_dim"]
        kw = dict(num_layers=cfg["num_layers"], bidirectional=bool(cfg["bidirectional"]), batch_first=True)
        if cfg["cell"] == "rnn":
            kw["nonlinearity"] = cfg["activation"]
        self.rnn = MODULES[cfg["cell"]](in_dim, cfg["hidden_dim"], **kw)
        self.directions = 2 if cfg["bidirectional"] else 1
        self.head = nn.Linear(self.directions * cfg["hidden_dim"], cfg["num_classes"])

    def forward(self, inputs, lengths):
        x = self.embed(inputs) if self.embed is not None else inputs
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, h_n = self.rnn(packed)  # h_n is back in the batch's original order
        if isinstance(h_n, tuple):  # LSTM: (h_n, c_n)
            h_n = h_n[0]
        if self.cfg["kind"] == "classifier":
            return self.head(torch.cat(list(h_n[-self.directions:]), dim=1))  # top layer: forward, reverse
        padded, _ = pad_packed_sequence(out, batch_first=True, total_length=inputs.shape[1])
        logits = self.head(padded)
        mask = (torch.arange(inputs.shape[1])[None, :] < lengths[:, None]).to(logits.dtype)
        return logits * mask[:, :, None]


def slots(cfg):
    """(reel prefix, PyTorch suffix) of every layer and direction, in reel's creation order."""
    single = cfg["num_layers"] == 1 and not cfg["bidirectional"]
    out = []
    for k in range(cfg["num_layers"]):
        for d in range(2 if cfg["bidirectional"] else 1):
            sfx = f"_l{k}" + ("_reverse" if d else "")
            out.append(("rnn" if single else f"rnn.l{k}" + ("_reverse" if d else ""), sfx))
    return out


# ---- the seal


def seal(path):
    with open(path, "r+b") as f:
        data = f.read()
        if len(data) < SEAL_BYTES + 8 or data[SEAL_BYTES:SEAL_BYTES + 8] != HDF5_SIGNATURE:
            raise SystemExit(f"{path}: cannot seal: no HDF5 data after a 512-byte user block")
        body = data[SEAL_BYTES:]
        header = SEAL_MAGIC + b"hdf5_bytes %d\ncrc32 %08x\n" % (len(body), zlib.crc32(body) & 0xFFFFFFFF)
        f.seek(0)
        f.write(header.ljust(SEAL_BYTES, b"\0"))
        f.flush()
        os.fsync(f.fileno())


def verify(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] == HDF5_SIGNATURE:
        return  # plain HDF5, unsealed
    if not data.startswith(SEAL_MAGIC):
        raise SystemExit(f"{path}: not a reel checkpoint (no reel seal, no HDF5 signature)")
    fields = dict(line.split(b" ", 1) for line in data[len(SEAL_MAGIC):SEAL_BYTES].rstrip(b"\0").split(b"\n") if line)
    body = data[SEAL_BYTES:]
    if int(fields[b"hdf5_bytes"]) != len(body):
        raise SystemExit(f"{path}: truncated or extended: the seal records {int(fields[b'hdf5_bytes'])} bytes, found {len(body)}")
    if int(fields[b"crc32"], 16) != zlib.crc32(body) & 0xFFFFFFFF:
        raise SystemExit(f"{path}: corrupt: CRC-32 mismatch (edited by hand? run: {sys.argv[0]} seal {path})")


# ---- writing and reading checkpoints


def fixed_str(s):
    return np.bytes_(s.encode("utf-8") or b"\0")  # fixed-length string: lives in the checksummed header


def attr_str(v):
    return v.decode("utf-8") if isinstance(v, (bytes, np.bytes_)) else str(v)


def write_checkpoint(path, cfg, params, dtype, vocab=None):
    """params: name -> numpy array (reel layout). Atomic: temp file, seal, fsync, rename."""
    tmp = os.path.join(os.path.dirname(os.path.abspath(path)), "." + os.path.basename(path) + f".tmp.{os.getpid()}.py")
    np_dtype = np.float32 if dtype == "float32" else np.float64
    with h5py.File(tmp, "w", userblock_size=SEAL_BYTES, libver=("v108", "v108")) as f:
        f.attrs["format"] = fixed_str("reel-checkpoint")
        f.attrs["format_version"] = np.int64(FORMAT_VERSION)
        f.attrs["reel_version"] = fixed_str("torch_interop.py (torch " + torch.__version__ + ")")
        f.attrs["dtype"] = fixed_str(dtype)
        c = f.create_group("config")
        for k in ("kind", "activation", "cell"):
            c.attrs[k] = fixed_str(cfg[k])
        for k in CONFIG_INTS:
            c.attrs[k] = np.int64(cfg[k])
        g = f.create_group("parameters")
        for name, value in params.items():
            g.create_dataset(name, data=np.ascontiguousarray(value, dtype=np_dtype))
        p = f.create_group("progress")
        for k in ("epoch", "global_step", "batch_in_epoch"):
            p.attrs[k] = np.int64(0)
        p.attrs["best_dev"] = np.float64(-1)
        p.create_group("rng")
        p.create_group("metrics")
        if vocab is not None:
            words, lowercase = vocab
            v = f.create_group("vocab")
            v.create_dataset("words", data=np.frombuffer("\n".join(words).encode("utf-8"), dtype=np.uint8))
            v.attrs["size"] = np.int64(len(words))
            v.attrs["lowercase"] = np.int64(1 if lowercase else 0)
    seal(tmp)
    os.replace(tmp, path)
    dfd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    os.fsync(dfd)
    os.close(dfd)


def read_checkpoint(path):
    verify(path)
    with h5py.File(path, "r") as f:
        if attr_str(f.attrs.get("format", b"")) != "reel-checkpoint":
            raise SystemExit(f"{path}: not a reel checkpoint (root attribute 'format')")
        version = int(f.attrs["format_version"])
        if version not in READABLE_VERSIONS:
            raise SystemExit(f"{path}: unsupported format_version {version} (this tool reads versions "
                             f"{', '.join(map(str, READABLE_VERSIONS))}; a newer file needs the tool of the reel that wrote it)")
        dtype = attr_str(f.attrs["dtype"])
        c = f["config"].attrs
        defaults = {"cell": "rnn", "num_layers": 1, "bidirectional": 0} if version == 1 else {}
        missing = [k for k in ("cell", "num_layers", "bidirectional") if k not in c and k not in defaults]
        if missing:
            raise SystemExit(f"{path}: /config lacks {missing} (required since format_version 2)")
        cfg = {"kind": attr_str(c["kind"]), "activation": attr_str(c["activation"]),
               "cell": attr_str(c["cell"]) if "cell" in c else defaults["cell"]}
        cfg.update({k: int(c[k]) if k in c else defaults[k] for k in CONFIG_INTS})
        params = {name: ds[()] for name, ds in f["parameters"].items()}
    return cfg, params, dtype


def to_reel(model):
    """A ReelModel's parameters in reel's layout (the mapping table above)."""
    sd = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    out = {}
    if model.embed is not None:
        out["embed.weight"] = sd["embed.weight"]
    for p, sfx in slots(model.cfg):
        out[p + ".W_xh"] = sd["rnn.weight_ih" + sfx].T
        out[p + ".W_hh"] = sd["rnn.weight_hh" + sfx].T
        if model.cfg["cell"] == "gru":
            out[p + ".b_x"] = sd["rnn.bias_ih" + sfx]
            out[p + ".b_h"] = sd["rnn.bias_hh" + sfx]
        else:
            out[p + ".b_h"] = sd["rnn.bias_ih" + sfx] + sd["rnn.bias_hh" + sfx]
    out["head.W"] = sd["head.weight"].T
    out["head.b"] = sd["head.bias"]
    return out


def from_reel(cfg, params, dtype):
    """A ReelModel holding a reel checkpoint's parameters (the mapping table above, reversed)."""
    model = ReelModel(cfg)
    if dtype == "float64":
        model = model.double()
    want = set(to_reel(model))
    if set(params) != want:
        raise SystemExit(f"parameters {sorted(params)} do not match the {cfg['cell']} model's {sorted(want)}")
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a))
    sd = {"head.weight": t(params["head.W"].T), "head.bias": t(params["head.b"])}
    if "embed.weight" in params:
        sd["embed.weight"] = t(params["embed.weight"])
    for p, sfx in slots(cfg):
        sd["rnn.weight_ih" + sfx] = t(params[p + ".W_xh"].T)
        sd["rnn.weight_hh" + sfx] = t(params[p + ".W_hh"].T)
        if cfg["cell"] == "gru":
            sd["rnn.bias_ih" + sfx] = t(params[p + ".b_x"])
            sd["rnn.bias_hh" + sfx] = t(params[p + ".b_h"])
        else:  # reel's b_h is the sum: all of it in bias_ih
            sd["rnn.bias_ih" + sfx] = t(params[p + ".b_h"])
            sd["rnn.bias_hh" + sfx] = torch.zeros_like(t(params[p + ".b_h"]))
    model.load_state_dict(sd)  # strict: shapes are checked
    return model.eval()


def remap_state_dict(sd, embed, rnn, head, cfg):
    """A user's state_dict (prefixes embed/rnn/head as named) -> ReelModel's keys."""
    out = {}
    for k, v in sd.items():
        for src, dst in ((embed, "embed"), (rnn, "rnn"), (head, "head")):
            if k.startswith(src + "."):
                out[dst + k[len(src):]] = v
    for _, sfx in slots(cfg):  # nn.RNN/LSTM/GRU(bias=False): zero biases
        w = out.get("rnn.weight_hh" + sfx)
        if w is not None and "rnn.bias_ih" + sfx not in out:
            out["rnn.bias_ih" + sfx] = out["rnn.bias_hh" + sfx] = torch.zeros(w.shape[0], dtype=w.dtype)
    return out


# ---- inputs and outputs


def read_inputs(path, model):
    with h5py.File(path, "r") as f:
        lengths = torch.from_numpy(f["lengths"][()].astype(np.int64))
        if "ids" in f:
            inputs = torch.from_numpy(f["ids"][()].astype(np.int64))
        else:
            inputs = torch.from_numpy(f["x"][()]).to(next(model.parameters()).dtype)
    return inputs, lengths


def write_outputs(path, logits, inputs=None, lengths=None):
    with h5py.File(path, "w") as f:
        f.create_dataset("logits", data=logits.detach().cpu().numpy())
        if inputs is not None:
            f.create_dataset("ids" if inputs.dtype == torch.int64 else "x", data=inputs.cpu().numpy())
            f.create_dataset("lengths", data=lengths.cpu().numpy())


def read_vocab_file(path):
    """A reel vocabulary file (Vocab::save): a header line, then one word per line in id order."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if not lines[0].startswith("reel-vocab v1 lowercase="):
        raise SystemExit(f"{path}: not a reel vocabulary file")
    if lines[-1] == "":
        lines.pop()
    return lines[1:], lines[0].endswith("=1")


# ---- commands


def cmd_export(a):
    torch.manual_seed(a.seed)
    cfg = {"kind": a.kind, "activation": a.activation, "input_dim": a.input_dim, "vocab_size": a.vocab_size,
           "embed_dim": a.embed_dim, "hidden_dim": a.hidden, "num_classes": a.classes, "cell": a.cell,
           "num_layers": a.layers, "bidirectional": int(a.bidirectional)}
    if (cfg["input_dim"] > 0) == (cfg["vocab_size"] > 0):
        raise SystemExit("set exactly one of --input-dim and --vocab-size")
    model = ReelModel(cfg)
    if a.dtype == "float64":
        model = model.double()
    if a.state_dict:
        sd = torch.load(a.state_dict, map_location="cpu")
        model.load_state_dict(remap_state_dict(sd, a.embed_key, a.rnn_key, a.head_key, cfg))
    model.eval()
    vocab = read_vocab_file(a.vocab) if a.vocab else None
    write_checkpoint(a.out, cfg, to_reel(model), a.dtype, vocab)
    print(f"wrote {a.out}")
    if a.sample:
        g = torch.Generator().manual_seed(a.seed + 1)
        lengths = torch.randint(1, a.time + 1, (a.batch,), generator=g)
        lengths[0] = a.time
        if cfg["vocab_size"] > 0:
            inputs = torch.randint(0, cfg["vocab_size"], (a.batch, a.time), generator=g)
        else:
            inputs = torch.randn(a.batch, a.time, cfg["input_dim"], generator=g).to(next(model.parameters()).dtype)
        with torch.no_grad():
            write_outputs(a.sample, model(inputs, lengths), inputs, lengths)
        print(f"wrote {a.sample}")


def cmd_import(a):
    n = len(a.checkpoint)
    if a.inputs and (len(a.inputs) != n or len(a.out or []) != n):
        raise SystemExit("give --inputs and --out once per --checkpoint")
    for i, path in enumerate(a.checkpoint):
        model = from_reel(*read_checkpoint(path))
        if a.state_dict:
            torch.save(model.state_dict(), a.state_dict[i])
        if a.inputs:
            inputs, lengths = read_inputs(a.inputs[i], model)
            with torch.no_grad():
                write_outputs(a.out[i], model(inputs, lengths))
            print(f"{path}: wrote {a.out[i]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export", help="PyTorch model -> reel checkpoint")
    e.add_argument("--out", required=True)
    e.add_argument("--kind", choices=["classifier", "tagger"], default="classifier")
    e.add_argument("--input-dim", type=int, default=0)
    e.add_argument("--vocab-size", type=int, default=0)
    e.add_argument("--embed-dim", type=int, default=0)
    e.add_argument("--hidden", type=int, default=128)
    e.add_argument("--classes", type=int, default=10)
    e.add_argument("--activation", choices=["tanh", "relu"], default="tanh", help="the rnn cell's nonlinearity")
    e.add_argument("--cell", choices=sorted(MODULES), default="rnn")
    e.add_argument("--layers", type=int, default=1)
    e.add_argument("--bidirectional", action="store_true")
    e.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    e.add_argument("--state-dict", help="torch.save()d state_dict to export (default: a fresh model from --seed)")
    e.add_argument("--embed-key", default="embed")
    e.add_argument("--rnn-key", default="rnn")
    e.add_argument("--head-key", default="head")
    e.add_argument("--vocab", help="reel vocabulary file (Vocab::save) to store in the checkpoint")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--sample", help="also write random inputs and PyTorch's outputs to this file")
    e.add_argument("--batch", type=int, default=4)
    e.add_argument("--time", type=int, default=7)
    i = sub.add_parser("import", help="reel checkpoint -> PyTorch (forward on inputs, state_dict)")
    i.add_argument("--checkpoint", action="append", required=True)
    i.add_argument("--inputs", action="append")
    i.add_argument("--out", action="append")
    i.add_argument("--state-dict", action="append")
    s = sub.add_parser("seal", help="re-seal a checkpoint edited in place")
    s.add_argument("file")
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.cmd == "export":
        cmd_export(a)
    elif a.cmd == "import":
        cmd_import(a)
    else:
        seal(a.file)
        print(f"sealed {a.file}")


if __name__ == "__main__":
    main()
