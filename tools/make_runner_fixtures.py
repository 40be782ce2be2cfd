#!/usr/bin/python3
"""Writes PyTorch reference fixtures for reel's SequenceRunner to tests/fixtures/runner/.

Run with Debian's interpreter, which has torch (python3-torch):

    /usr/bin/python3 tools/make_runner_fixtures.py [--out DIR]

Each case builds torch.nn.RNN / nn.LSTM / nn.GRU(batch_first=True) with fixed seeds and runs
forward + backward once in float64 and once in float32 (the float64 weights and inputs rounded to
float32, computed by torch in float32), writing <case>_f64.txt and <case>_f32.txt in the text
format of tools/make_fixtures.py (read by tests/fixture_io.h; tests/test_runner_pytorch.cpp).

Variable lengths go through pack_padded_sequence(X, lengths, batch_first=True,
enforce_sorted=False), the module, and pad_packed_sequence(batch_first=True, total_length=T):
the output is zero at padding. X holds random values at padding too (nothing may read them).

Loss:  L = sum(output * R) + sum(h_n * Rh) [+ sum(c_n * Rc) for an LSTM], R, Rh, Rc fixed random.

Parameters in reel's layout and names (SequenceRunner::layer_prefix): with one layer and one
direction rnn.<name>, otherwise rnn.l<k>.<name> and rnn.l<k>_reverse.<name>;
  rnn, lstm:  W_xh = weight_ih.T (in, G*hidden)  W_hh = weight_hh.T  b_h = bias_ih + bias_hh
  gru:        W_xh = weight_ih.T   W_hh = weight_hh.T   b_x = bias_ih   b_h = bias_hh
Gradients are grad_<parameter name> in the same layout (for a summed b_h: bias_ih.grad, which
equals bias_hh.grad). Gate columns in PyTorch's order (LSTM i, f, g, o; GRU r, z, n).

Tensors: the parameters, X (B, T, in), lengths (B) i64, h0 [c0] (layers*D, B, hidden), R (B, T,
D*hidden), Rh [Rc] (layers*D, B, hidden), output (B, T, D*hidden), h_n [c_n], loss (rank 0),
grad_<param> ..., grad_X, grad_h0 [grad_c0]. A case with meta h0 = zero has zero h0/c0 (passed
explicitly to torch so that grad_h0 exists).

Every case is also recomputed here step by step in float64 from the equations (each sequence on its
own, the reverse direction from its last real token) and must match torch to 1e-10; relu cases
must keep every pre-activation at least RELU_MARGIN from 0.
"""
import argparse
import copy
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import fmt_tensor, write_case  # noqa: E402  (the shared text writer)

# (name, cell, activation, layers, bidirectional, B, T, input, hidden, lengths | None, h0 kind, seed)
CASES = [
    ("lstm_l1_full", "lstm", "tanh", 1, False, 3, 4, 3, 4, None, "zero", 201),
    ("gru_l1_full", "gru", "tanh", 1, False, 3, 4, 3, 4, None, "zero", 202),
    ("rnn_tanh_l1_full", "rnn", "tanh", 1, False, 3, 4, 3, 4, None, "zero", 203),
    ("lstm_l2_bi_var", "lstm", "tanh", 2, True, 4, 5, 3, 4, [5, 3, 4, 2], "random", 204),
    ("gru_l2_bi_var", "gru", "tanh", 2, True, 4, 5, 3, 4, [5, 3, 4, 2], "random", 205),
    # a tie (4, 4) and a final step that is padding for every sequence (max length 4 < T = 5)
    ("gru_l2_var", "gru", "tanh", 2, False, 4, 5, 3, 4, [4, 2, 4, 1], "random", 206),
    ("rnn_relu_l1_bi_var", "rnn", "relu", 1, True, 4, 5, 3, 4, [5, 3, 4, 2], "random", 207),
]

RELU_MARGIN = 1e-3


def make_module(cell, act, n_in, hid, layers, bidir):
    kw = dict(num_layers=layers, bidirectional=bidir, batch_first=True, bias=True)
    if cell == "rnn":
        return torch.nn.RNN(n_in, hid, nonlinearity=act, **kw)
    if cell == "lstm":
        return torch.nn.LSTM(n_in, hid, **kw)
    if cell == "gru":
        return torch.nn.GRU(n_in, hid, **kw)
    raise ValueError(cell)


def prefix(layers, bidir, l, d):
    if layers == 1 and not bidir:
        return "rnn"
    return f"rnn.l{l}" + ("_reverse" if d else "")


def params_and_grads(m, cell, layers, bidir):
    """[(reel name, value, grad)] in SequenceRunner's creation order."""
    out = []
    for l in range(layers):
        for d in range(2 if bidir else 1):
            sfx = f"_l{l}" + ("_reverse" if d else "")
            p = prefix(layers, bidir, l, d)
            wi, wh = getattr(m, "weight_ih" + sfx), getattr(m, "weight_hh" + sfx)
            bi, bh = getattr(m, "bias_ih" + sfx), getattr(m, "bias_hh" + sfx)
            out.append((p + ".W_xh", wi.detach().T, wi.grad.T))
            out.append((p + ".W_hh", wh.detach().T, wh.grad.T))
            if cell == "gru":
                out.append((p + ".b_x", bi.detach(), bi.grad))
                out.append((p + ".b_h", bh.detach(), bh.grad))
            else:
                tol = 1e-12 if bi.dtype == torch.float64 else 1e-5
                assert torch.allclose(bi.grad, bh.grad, rtol=tol, atol=tol), p
                out.append((p + ".b_h", (bi + bh).detach(), bi.grad))
    return out


def manual(m, cell, act, layers, bidir, X, lengths, h0, c0):
    """The case recomputed sequence by sequence in float64: (output, h_n, c_n, min |relu pre-act|)."""
    B, T, _ = X.shape
    D = 2 if bidir else 1
    H = m.hidden_size
    f = lambda t: t.detach().double()
    zmin = float("inf")
    inp = f(X)
    hn = torch.zeros(layers * D, B, H, dtype=torch.float64)
    cn = torch.zeros_like(hn)
    for l in range(layers):
        out = torch.zeros(B, T, D * H, dtype=torch.float64)
        for d in range(D):
            sfx = f"_l{l}" + ("_reverse" if d else "")
            Wi, Wh = f(getattr(m, "weight_ih" + sfx)), f(getattr(m, "weight_hh" + sfx))
            bi, bh = f(getattr(m, "bias_ih" + sfx)), f(getattr(m, "bias_hh" + sfx))
            k = l * D + d
            for b in range(B):
                L = lengths[b]
                h = f(h0[k, b])
                c = f(c0[k, b]) if c0 is not None else None
                for t in (reversed(range(L)) if d else range(L)):
                    gi, gh = inp[b, t] @ Wi.T + bi, h @ Wh.T + bh
                    if cell == "rnn":
                        z = gi + gh
                        zmin = min(zmin, float(z.abs().min()))
                        h = torch.tanh(z) if act == "tanh" else torch.relu(z)
                    elif cell == "lstm":
                        i, fg, g, o = (gi + gh).chunk(4)
                        c = torch.sigmoid(fg) * c + torch.sigmoid(i) * torch.tanh(g)
                        h = torch.sigmoid(o) * torch.tanh(c)
                    else:
                        ar, az, an = gi.chunk(3)
                        mr, mz, mn = gh.chunk(3)
                        r, z = torch.sigmoid(ar + mr), torch.sigmoid(az + mz)
                        n = torch.tanh(an + r * mn)
                        h = (1 - z) * n + z * h
                    out[b, t, d * H:(d + 1) * H] = h
                hn[k, b] = h
                if c is not None:
                    cn[k, b] = c
        inp = out
    return inp, hn, cn, zmin


def build(case, dtype):
    name, cell, act, layers, bidir, B, T, n_in, hid, lengths, h0_kind, seed = case
    D = 2 if bidir else 1
    full = lengths is None
    if full:
        lengths = [T] * B
    # Everything is drawn in float64 from one seed, then cast: the f32 fixture's weights and inputs
    # are the f64 ones rounded to float32.
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    m = make_module(cell, act, n_in, hid, layers, bidir).double()
    X = torch.randn(B, T, n_in, generator=g, dtype=torch.float64)
    if h0_kind == "random":
        h0 = 0.5 * torch.randn(layers * D, B, hid, generator=g, dtype=torch.float64)
        c0 = 0.5 * torch.randn(layers * D, B, hid, generator=g, dtype=torch.float64)
    else:
        h0 = torch.zeros(layers * D, B, hid, dtype=torch.float64)
        c0 = torch.zeros(layers * D, B, hid, dtype=torch.float64)
    R = torch.randn(B, T, D * hid, generator=g, dtype=torch.float64)
    Rh = torch.randn(layers * D, B, hid, generator=g, dtype=torch.float64)
    Rc = torch.randn(layers * D, B, hid, generator=g, dtype=torch.float64)
    if dtype == torch.float32:
        m = copy.deepcopy(m).float()
        X, h0, c0, R, Rh, Rc = (t.float() for t in (X, h0, c0, R, Rh, Rc))
    X = X.clone().requires_grad_(True)
    h0 = h0.clone().requires_grad_(True)
    c0 = c0.clone().requires_grad_(True)
    lstm = cell == "lstm"
    state0 = (h0, c0) if lstm else h0

    if full:
        out, st = m(X, state0)
    else:
        packed = torch.nn.utils.rnn.pack_padded_sequence(X, torch.tensor(lengths), batch_first=True,
                                                         enforce_sorted=False)
        out_p, st = m(packed, state0)
        out, out_len = torch.nn.utils.rnn.pad_packed_sequence(out_p, batch_first=True, total_length=T)
        assert out_len.tolist() == lengths
    h_n, c_n = st if lstm else (st, None)
    loss = (out * R).sum() + (h_n * Rh).sum()
    if lstm:
        loss = loss + (c_n * Rc).sum()
    loss.backward()

    ref_out, ref_h, ref_c, zmin = manual(m, cell, act, layers, bidir, X, lengths, h0, c0 if lstm else None)
    tol = 1e-10 if dtype == torch.float64 else 1e-5
    assert torch.allclose(out.detach().double(), ref_out, atol=tol, rtol=tol), name
    assert torch.allclose(h_n.detach().double(), ref_h, atol=tol, rtol=tol), name
    if lstm:
        assert torch.allclose(c_n.detach().double(), ref_c, atol=tol, rtol=tol), name
    if act == "relu" and zmin < RELU_MARGIN:
        raise SystemExit(f"{name}: a relu pre-activation is {zmin:.3g} from 0; pick another seed")
    for b, L in enumerate(lengths):
        assert float(X.grad[b, L:].abs().sum()) == 0.0, name

    pg = params_and_grads(m, cell, layers, bidir)
    tensors = [(n, v) for n, v, _ in pg]
    tensors += [("X", X.detach()), ("lengths", torch.tensor(lengths, dtype=torch.int64)), ("h0", h0.detach())]
    if lstm:
        tensors.append(("c0", c0.detach()))
    tensors += [("R", R), ("Rh", Rh)] + ([("Rc", Rc)] if lstm else [])
    tensors += [("output", out.detach()), ("h_n", h_n.detach())] + ([("c_n", c_n.detach())] if lstm else [])
    tensors.append(("loss", loss.detach()))
    tensors += [("grad_" + n, gr) for n, _, gr in pg]
    tensors += [("grad_X", X.grad), ("grad_h0", h0.grad)] + ([("grad_c0", c0.grad)] if lstm else [])
    meta = [
        ("case", name), ("dtype", "f64" if dtype == torch.float64 else "f32"),
        ("cell", cell), ("activation", act), ("num_layers", layers), ("bidirectional", int(bidir)),
        ("batch", B), ("time", T), ("input", n_in), ("hidden", hid),
        ("lengths", "full" if full else "variable"), ("h0", h0_kind), ("seed", seed),
        ("torch", torch.__version__),
    ]
    return meta, tensors, zmin


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "fixtures", "runner"))
    args = ap.parse_args()
    out = os.path.normpath(args.out)
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    total = 0
    for case in CASES:
        for dtype, suffix in ((torch.float64, "f64"), (torch.float32, "f32")):
            meta, tensors, zmin = build(case, dtype)
            path = os.path.join(out, f"{case[0]}_{suffix}.txt")
            n = write_case(path, meta, tensors, writer="tools/make_runner_fixtures.py")
            total += n
            extra = f" min|z|={zmin:.3g}" if case[2] == "relu" else ""
            print(f"wrote {os.path.relpath(path)} ({n} bytes) loss={dict(tensors)['loss'].item():.10g}{extra}")
    print(f"{2 * len(CASES)} fixtures, {total} bytes in {os.path.relpath(out)} (torch {torch.__version__})")
    if total > 2 * 1024 * 1024:
        sys.exit("fixtures exceed 2 MB")


if __name__ == "__main__":
    main()
