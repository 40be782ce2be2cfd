#!/usr/bin/python3
"""Writes PyTorch reference fixtures for reel's VanillaRNN to tests/fixtures/rnn/.

Run with Debian's interpreter, which has torch (python3-torch):

    /usr/bin/python3 tools/make_fixtures.py [--out DIR]

Each case builds torch.nn.RNN(batch_first=True, nonlinearity=tanh|relu) followed by an nn.Linear
applied to every hidden state, with fixed seeds, runs forward + backward once in float64 and once
in float32 (the float64 weights and inputs rounded to float32, computed by torch in float32), and
writes one text file per case and dtype: <case>_f64.txt and <case>_f32.txt. The C++ side
(tests/fixture_io.h, tests/test_rnn_pytorch.cpp) reads them; committing them means the tests need
no torch.

Losses:
  proj     L = sum_t sum(y_t * R_t)        R: a fixed random (B, T, out) tensor, stored
  ce_last  L = mean_b CE(y_T[b], target[b])  targets: B ints in [0, out), stored

Weights are stored in reel's (in, out) layout:
  W_xh = weight_ih_l0.T (input, hidden)    W_hh = weight_hh_l0.T (hidden, hidden)
  b_h  = bias_ih_l0 + bias_hh_l0           W_hy = linear.weight.T (hidden, output)
  b_y  = linear.bias
Gradients use the same layout (grad_b_h = bias_ih_l0.grad, which equals bias_hh_l0.grad).

File format (text, one token-separated record per line; '#' lines are comments):

  reel-fixture 1
  meta <key> <value>
  ...
  tensor <name> <dtype> <rank> <d0> ... <d(rank-1)>
  <prod(d) values on one line, row-major>     (rank 0: one value)
  ...
  end

dtype is f64 (written with '%.17g', exact round trip), f32 ('%.9g', exact round trip for a
float32) or i64. Tensors: W_xh W_hh b_h W_hy b_y X h0 [R | targets] H (B,T,hidden) Y (B,T,out)
loss (rank 0) grad_W_xh grad_W_hh grad_b_h grad_W_hy grad_b_y grad_X grad_h0.
"""
import argparse
import os
import sys

import torch

# (name, B, T, input, hidden, output, activation, h0 kind, loss, seed)
CASES = [
    ("b1_t1_tanh", 1, 1, 3, 4, 2, "tanh", "random", "proj", 101),
    ("b3_t5_tanh", 3, 5, 4, 6, 3, "tanh", "random", "proj", 102),
    ("b2_t50_tanh", 2, 50, 3, 8, 2, "tanh", "random", "proj", 103),
    ("b4_t7_relu", 4, 7, 5, 6, 3, "relu", "random", "proj", 104),
    ("b2_t4_i3_h4_o2_tanh", 2, 4, 3, 4, 2, "tanh", "random", "proj", 105),
    ("b2_t4_i3_h4_o2_tanh_h0zero", 2, 4, 3, 4, 2, "tanh", "zero", "proj", 106),
    ("b3_t6_tanh_ce", 3, 6, 4, 5, 4, "tanh", "random", "ce_last", 107),
    ("b4_t5_relu_ce", 4, 5, 3, 6, 5, "relu", "zero", "ce_last", 108),
]

# relu cases: every pre-activation must stay this far from the kink, so float32 rounding (or a
# different summation order in reel's BLAS) cannot flip a unit on or off.
RELU_MARGIN = 1e-3


def build(case, dtype):
    name, B, T, n_in, n_hid, n_out, act, h0_kind, loss_kind, seed = case
    # Everything is drawn in float64 from one seed, then cast: the f32 fixture's weights and inputs
    # are the f64 ones rounded to float32.
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    rnn = torch.nn.RNN(n_in, n_hid, num_layers=1, nonlinearity=act, bias=True, batch_first=True)
    lin = torch.nn.Linear(n_hid, n_out)
    rnn = rnn.double()
    lin = lin.double()
    X = torch.randn(B, T, n_in, generator=g, dtype=torch.float64)
    if h0_kind == "random":
        h0 = 0.5 * torch.randn(B, n_hid, generator=g, dtype=torch.float64)
    else:
        h0 = torch.zeros(B, n_hid, dtype=torch.float64)
    R = torch.randn(B, T, n_out, generator=g, dtype=torch.float64)
    targets = torch.randint(0, n_out, (B,), generator=g)
    if dtype == torch.float32:
        rnn = rnn.float()
        lin = lin.float()
        X, h0, R = X.float(), h0.float(), R.float()
    X = X.clone().requires_grad_(True)
    h0 = h0.clone().requires_grad_(True)

    H, _ = rnn(X, h0.unsqueeze(0))  # (B, T, hidden)
    H.retain_grad()
    Y = lin(H)  # (B, T, out)
    if loss_kind == "proj":
        loss = (Y * R).sum()
    elif loss_kind == "ce_last":
        loss = torch.nn.functional.cross_entropy(Y[:, -1, :], targets, reduction="mean")
    else:
        raise ValueError(loss_kind)
    loss.backward()

    if act == "relu":
        # Recompute the pre-activations in float64 and check the margin.
        with torch.no_grad():
            W_ih, W_hh = rnn.weight_ih_l0.double(), rnn.weight_hh_l0.double()
            b = (rnn.bias_ih_l0 + rnn.bias_hh_l0).double()
            h = h0.detach().double()
            zmin = float("inf")
            for t in range(T):
                z = X[:, t, :].detach().double() @ W_ih.T + h @ W_hh.T + b
                zmin = min(zmin, float(z.abs().min()))
                h = torch.relu(z)
        if zmin < RELU_MARGIN:
            raise SystemExit(f"{name}: a relu pre-activation is {zmin:.3g} from 0; pick another seed")

    # The two biases get the same gradient mathematically (PyTorch may reduce them in a different
    # order, so they can differ in the last bits).
    tol = 1e-12 if dtype == torch.float64 else 1e-5
    assert torch.allclose(rnn.bias_ih_l0.grad, rnn.bias_hh_l0.grad, rtol=tol, atol=tol), name
    tensors = [
        ("W_xh", rnn.weight_ih_l0.detach().T),
        ("W_hh", rnn.weight_hh_l0.detach().T),
        ("b_h", (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach()),
        ("W_hy", lin.weight.detach().T),
        ("b_y", lin.bias.detach()),
        ("X", X.detach()),
        ("h0", h0.detach()),
    ]
    if loss_kind == "proj":
        tensors.append(("R", R))
    else:
        tensors.append(("targets", targets))
    tensors += [
        ("H", H.detach()),
        ("Y", Y.detach()),
        ("loss", loss.detach()),
        ("grad_W_xh", rnn.weight_ih_l0.grad.T),
        ("grad_W_hh", rnn.weight_hh_l0.grad.T),
        ("grad_b_h", rnn.bias_ih_l0.grad),
        ("grad_W_hy", lin.weight.grad.T),
        ("grad_b_y", lin.bias.grad),
        ("grad_X", X.grad),
        ("grad_h0", h0.grad),
    ]
    meta = [
        ("case", name),
        ("dtype", "f64" if dtype == torch.float64 else "f32"),
        ("batch", B),
        ("time", T),
        ("input", n_in),
        ("hidden", n_hid),
        ("output", n_out),
        ("activation", act),
        ("h0", h0_kind),
        ("loss", loss_kind),
        ("seed", seed),
        ("torch", torch.__version__),
    ]
    return meta, tensors


def fmt_tensor(name, t):
    t = t.detach().contiguous()
    if t.dtype == torch.float64:
        dt, f = "f64", "%.17g"
    elif t.dtype == torch.float32:
        dt, f = "f32", "%.9g"
    elif t.dtype == torch.int64:
        dt, f = "i64", "%d"
    else:
        raise TypeError(f"{name}: unsupported dtype {t.dtype}")
    dims = list(t.shape)
    head = f"tensor {name} {dt} {len(dims)}" + "".join(f" {d}" for d in dims)
    vals = " ".join(f % v for v in t.reshape(-1).tolist())
    return head + "\n" + vals + "\n"


def write_case(path, meta, tensors, writer="tools/make_fixtures.py"):
    parts = ["reel-fixture 1\n",
             f"# written by {writer} from PyTorch; weights in reel's (in, out) layout\n"]
    parts += [f"meta {k} {v}\n" for k, v in meta]
    parts += [fmt_tensor(n, t) for n, t in tensors]
    parts.append("end\n")
    text = "".join(parts)
    with open(path, "w") as f:
        f.write(text)
    return len(text)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "fixtures", "rnn"))
    args = ap.parse_args()
    out = os.path.normpath(args.out)
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    total = 0
    for case in CASES:
        for dtype, suffix in ((torch.float64, "f64"), (torch.float32, "f32")):
            meta, tensors = build(case, dtype)
            path = os.path.join(out, f"{case[0]}_{suffix}.txt")
            n = write_case(path, meta, tensors)
            total += n
            loss = dict(tensors)["loss"].item()
            B, T, n_in, n_hid, n_out = case[1:6]
            print(f"wrote {os.path.relpath(path)}  ({n} bytes)  B={B} T={T} in={n_in} hidden={n_hid} "
                  f"out={n_out} {case[6]} h0={case[7]} loss={case[8]} value={loss:.10g}")
    print(f"{2 * len(CASES)} fixtures, {total} bytes in {os.path.relpath(out)} (torch {torch.__version__})")
    if total > 2 * 1024 * 1024:
        sys.exit("fixtures exceed 2 MB")


if __name__ == "__main__":
    main()
