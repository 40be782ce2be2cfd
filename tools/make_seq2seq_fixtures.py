#!/usr/bin/python3
"""Writes PyTorch reference fixtures for reel's EncoderDecoder and Generator to tests/fixtures/seq2seq/.

Run with Debian's interpreter, which has torch (python3-torch):

    /usr/bin/python3 tools/make_seq2seq_fixtures.py [--out DIR]

Each case builds the model of models/seq2seq.h or models/generator.h from torch.nn.Embedding,
nn.RNN / nn.LSTM / nn.GRU(batch_first=True) fed through pack_padded_sequence(enforce_sorted=False),
nn.Linear and an explicit attention, with fixed seeds, and runs the teacher-forced loss and its
backward once in float64 and once in float32 (the float64 weights rounded to float32, computed by
torch in float32), writing <case>_f64.txt and <case>_f32.txt in the text format of
tools/make_fixtures.py (read by tests/fixture_io.h; tests/test_seq2seq_pytorch.cpp).

EncoderDecoder (kind seq2seq):
  memory, (h_n [, c_n]) = encoder(src_embed(source))            memory zero at padding
  init[l].h = tanh(bridge.l<l>.h([h_n[l·D + 0]; .. h_n[l·D + D-1]]))  (and .c from c_n for an LSTM)
  q = decoder(tgt_embed([bos, y1 .. yn]), init)                  zero at padding
  with attention: keys = memory · attn.W (no bias); s = q · keysᵀ over source positions, padding
  masked to -inf; a = softmax(s); ctx = a · memory; o = tanh(attn_out([ctx; q])); else o = q
  logits = head(o); loss = mean over every real target token and each </s> of the cross-entropy
  against [y1 .. yn, eos].
Generator (kind generator):
  context = category.weight[categories]; h0[l] = tanh(init.l<l>(context)), an LSTM's c0 = 0;
  logits = head(rnn(embed([bos, y1 .. yn]), h0)); the same loss.

Parameters in reel's layout and names, in reel's creation order: Embedding "<p>.weight" (vocab,
dim) as torch's; Linear "<p>.W" = weight.T (in, out), "<p>.b" = bias; "attn.W" (encoder output,
decoder hidden) as it is used above; runners (SequenceRunner::layer_prefix: one layer and one
direction "<p>.W_xh", otherwise "<p>.l<k>[_reverse].W_xh") with
  rnn, lstm:  W_xh = weight_ih.T   W_hh = weight_hh.T   b_h = bias_ih + bias_hh
  gru:        W_xh = weight_ih.T   W_hh = weight_hh.T   b_x = bias_ih   b_h = bias_hh
and runner prefixes "encoder", "decoder" (seq2seq) and "rnn" (generator). Gradients are
grad_<parameter name> in the same layout (for a summed b_h: bias_ih.grad, equal to bias_hh.grad).

Tensors: the parameters, then seq2seq: src_ids (B, S) i64 (0 at padding), src_lengths (B),
tgt_ids (B, N) (without bos and eos, 0 at padding), tgt_lengths (B); generator: categories (B),
ids (B, N), lengths (B); then logits (B, N + 1, vocab), loss (rank 0), grad_<param> ...
Meta: kind, the model's configuration (Seq2SeqConfig's or GeneratorConfig's field names),
batch, num_parameters, seed, torch.

Every float64 case is also recomputed here from the equations, each sequence on its own (no
packing, no masks: the encoder over its own length, the reverse direction from its last real
token, attention over its own source positions), with the same weights; that loss and its
autograd gradients must match torch's to 1e-10.
"""
import argparse
import copy
import os
import sys

import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import write_case  # noqa: E402  (the shared text writer)

BOS, EOS = 2, 3  # Seq2SeqConfig's / GeneratorConfig's defaults; 0 <pad>, 1 <unk>

CASES = [
    dict(name="s2s_lstm_l2_bi_attn", kind="seq2seq", cell="lstm", activation="tanh", num_layers=2,
         bidirectional=True, attention=True, src_vocab=8, tgt_vocab=9, embed_dim=4, hidden_dim=3,
         decoder_hidden=0, src_lengths=[4, 2, 3], tgt_lengths=[3, 1, 4], seed=301),
    dict(name="s2s_gru_l1", kind="seq2seq", cell="gru", activation="tanh", num_layers=1,
         bidirectional=False, attention=False, src_vocab=7, tgt_vocab=8, embed_dim=3, hidden_dim=4,
         decoder_hidden=0, src_lengths=[2, 4, 3], tgt_lengths=[3, 2, 1], seed=302),
    dict(name="s2s_rnn_l1_bi_attn_dec5", kind="seq2seq", cell="rnn", activation="tanh", num_layers=1,
         bidirectional=True, attention=True, src_vocab=9, tgt_vocab=7, embed_dim=3, hidden_dim=3,
         decoder_hidden=5, src_lengths=[4, 2, 3], tgt_lengths=[2, 3, 1], seed=303),
    dict(name="gen_gru_l1_cat", kind="generator", cell="gru", activation="tanh", num_layers=1,
         vocab=8, num_categories=3, context_dim=3, embed_dim=3, hidden_dim=4,
         lengths=[3, 1, 4], categories=[2, 0, 2], seed=304),
    dict(name="gen_lstm_l2_cat", kind="generator", cell="lstm", activation="tanh", num_layers=2,
         vocab=7, num_categories=4, context_dim=4, embed_dim=3, hidden_dim=3,
         lengths=[2, 4, 3], categories=[1, 3, 1], seed=305),
]

SEQ2SEQ_META = ["src_vocab", "tgt_vocab", "bos", "eos", "embed_dim", "hidden_dim", "decoder_hidden", "cell",
                "activation", "num_layers", "bidirectional", "attention"]
GENERATOR_META = ["vocab", "bos", "eos", "num_categories", "context_dim", "embed_dim", "hidden_dim", "cell",
                  "activation", "num_layers"]


def make_rnn(cell, act, n_in, hid, layers, bidir):
    kw = dict(num_layers=layers, bidirectional=bidir, batch_first=True, bias=True)
    if cell == "rnn":
        return torch.nn.RNN(n_in, hid, nonlinearity=act, **kw)
    if cell == "lstm":
        return torch.nn.LSTM(n_in, hid, **kw)
    if cell == "gru":
        return torch.nn.GRU(n_in, hid, **kw)
    raise ValueError(cell)


def runner_prefix(prefix, layers, bidir, l, d):
    """SequenceRunner::layer_prefix."""
    if layers == 1 and not bidir:
        return prefix
    return f"{prefix}.l{l}" + ("_reverse" if d else "")


def runner_params(m, prefix, cell):
    """[(reel name, value, grad)] of a torch RNN module, in SequenceRunner's creation order."""
    out = []
    layers, bidir = m.num_layers, m.bidirectional
    for l in range(layers):
        for d in range(2 if bidir else 1):
            sfx = f"_l{l}" + ("_reverse" if d else "")
            p = runner_prefix(prefix, layers, bidir, l, d)
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


def linear_params(lin, prefix):
    return [(prefix + ".W", lin.weight.detach().T, lin.weight.grad.T), (prefix + ".b", lin.bias.detach(), lin.bias.grad)]


def embed_params(emb, prefix):
    return [(prefix + ".weight", emb.weight.detach(), emb.weight.grad)]


class Seq2Seq(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        D = 2 if c["bidirectional"] else 1
        self.D = D
        self.enc_out = D * c["hidden_dim"]
        self.dec = c["decoder_hidden"] or self.enc_out
        self.parts = 2 if c["cell"] == "lstm" else 1
        self.c = c
        self.src_embed = torch.nn.Embedding(c["src_vocab"], c["embed_dim"])
        self.encoder = make_rnn(c["cell"], c["activation"], c["embed_dim"], c["hidden_dim"], c["num_layers"],
                                c["bidirectional"])
        self.bridge = torch.nn.ModuleList(torch.nn.Linear(self.enc_out, self.dec)
                                          for _ in range(c["num_layers"] * self.parts))
        self.tgt_embed = torch.nn.Embedding(c["tgt_vocab"], c["embed_dim"])
        self.decoder = make_rnn(c["cell"], c["activation"], c["embed_dim"], self.dec, c["num_layers"], False)
        if c["attention"]:
            bound = 1.0 / self.enc_out ** 0.5
            self.attn_W = torch.nn.Parameter(torch.empty(self.enc_out, self.dec).uniform_(-bound, bound))
            self.attn_out = torch.nn.Linear(self.enc_out + self.dec, self.dec)
        self.head = torch.nn.Linear(self.dec, c["tgt_vocab"])

    def bridge_name(self, i):
        return f"bridge.l{i // self.parts}." + ("h" if i % self.parts == 0 else "c")

    def logits(self, src, src_len, dec_in, dec_len):
        B, S = src.shape
        steps = dec_in.shape[1]
        L = self.c["num_layers"]
        x = self.src_embed(src)
        packed = pack_padded_sequence(x, torch.tensor(src_len), batch_first=True, enforce_sorted=False)
        mem_p, st = self.encoder(packed)
        memory, got = pad_packed_sequence(mem_p, batch_first=True, total_length=S)
        assert got.tolist() == list(src_len)
        finals = st if self.parts == 2 else (st,)
        init = []
        for p in range(self.parts):
            layers = []
            for l in range(L):
                xs = torch.cat([finals[p][l * self.D + d] for d in range(self.D)], -1)
                layers.append(torch.tanh(self.bridge[l * self.parts + p](xs)))
            init.append(torch.stack(layers))
        h0 = (init[0], init[1]) if self.parts == 2 else init[0]
        y = self.tgt_embed(dec_in)
        packed = pack_padded_sequence(y, torch.tensor(dec_len), batch_first=True, enforce_sorted=False)
        q_p, _ = self.decoder(packed, h0)
        q, got = pad_packed_sequence(q_p, batch_first=True, total_length=steps)
        assert got.tolist() == list(dec_len)
        if self.c["attention"]:
            keys = memory @ self.attn_W  # (B, S, dec)
            scores = torch.bmm(q, keys.transpose(1, 2))  # (B, steps, S)
            mask = torch.arange(S)[None, :] < torch.tensor(src_len)[:, None]  # (B, S)
            scores = scores.masked_fill(~mask[:, None, :], float("-inf"))
            a = torch.softmax(scores, -1)
            ctx = torch.bmm(a, memory)
            o = torch.tanh(self.attn_out(torch.cat([ctx, q], -1)))
        else:
            o = q
        return self.head(o)

    def reel_params(self):
        """[(reel name, value, grad)] in EncoderDecoder's creation order."""
        out = embed_params(self.src_embed, "src_embed")
        out += runner_params(self.encoder, "encoder", self.c["cell"])
        for i, lin in enumerate(self.bridge):
            out += linear_params(lin, self.bridge_name(i))
        out += embed_params(self.tgt_embed, "tgt_embed")
        out += runner_params(self.decoder, "decoder", self.c["cell"])
        if self.c["attention"]:
            out.append(("attn.W", self.attn_W.detach(), self.attn_W.grad))
            out += linear_params(self.attn_out, "attn_out")
        out += linear_params(self.head, "head")
        return out


class Gen(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.category = torch.nn.Embedding(c["num_categories"], c["context_dim"])
        self.init = torch.nn.ModuleList(torch.nn.Linear(c["context_dim"], c["hidden_dim"])
                                        for _ in range(c["num_layers"]))
        self.embed = torch.nn.Embedding(c["vocab"], c["embed_dim"])
        self.rnn = make_rnn(c["cell"], c["activation"], c["embed_dim"], c["hidden_dim"], c["num_layers"], False)
        self.head = torch.nn.Linear(c["hidden_dim"], c["vocab"])

    def logits(self, categories, dec_in, dec_len):
        ctx = self.category(categories)
        h0 = torch.stack([torch.tanh(lin(ctx)) for lin in self.init])
        state = (h0, torch.zeros_like(h0)) if self.c["cell"] == "lstm" else h0
        y = self.embed(dec_in)
        packed = pack_padded_sequence(y, torch.tensor(dec_len), batch_first=True, enforce_sorted=False)
        out_p, _ = self.rnn(packed, state)
        out, got = pad_packed_sequence(out_p, batch_first=True, total_length=dec_in.shape[1])
        assert got.tolist() == list(dec_len)
        return self.head(out)

    def reel_params(self):
        """[(reel name, value, grad)] in Generator's creation order."""
        out = embed_params(self.category, "category")
        for l, lin in enumerate(self.init):
            out += linear_params(lin, f"init.l{l}")
        out += embed_params(self.embed, "embed")
        out += runner_params(self.rnn, "rnn", self.c["cell"])
        out += linear_params(self.head, "head")
        return out


def shift(ids, lengths):
    """shift_targets: decoder input [bos, y..], output [y.., eos] (B, N + 1), 0-padded; lengths n + 1."""
    B, N = ids.shape
    inp = torch.zeros(B, N + 1, dtype=torch.int64)
    out = torch.zeros(B, N + 1, dtype=torch.int64)
    for b, n in enumerate(lengths):
        inp[b, 0] = BOS
        inp[b, 1:n + 1] = ids[b, :n]
        out[b, :n] = ids[b, :n]
        out[b, n] = EOS
    return inp, out, [n + 1 for n in lengths]


def random_ids(g, lengths, lo, hi):
    """(B, max len) ids in [lo, hi), 0 past each length."""
    ids = torch.zeros(len(lengths), max(lengths), dtype=torch.int64)
    for b, n in enumerate(lengths):
        ids[b, :n] = torch.randint(lo, hi, (n,), generator=g)
    return ids


def masked_ce(logits, out, dec_len):
    steps = logits.shape[1]
    mask = torch.arange(steps)[None, :] < torch.tensor(dec_len)[:, None]
    return F.cross_entropy(logits[mask], out[mask], reduction="mean")


# ---- the independent recomputation: one sequence at a time, from the equations

def cell_step(cell, act, x, state, Wi, Wh, bi, bh):
    gi, gh = Wi @ x + bi, Wh @ state[0] + bh
    if cell == "rnn":
        return (torch.tanh(gi + gh) if act == "tanh" else torch.relu(gi + gh),)
    if cell == "lstm":
        i, f, g, o = (gi + gh).chunk(4)
        c = torch.sigmoid(f) * state[1] + torch.sigmoid(i) * torch.tanh(g)
        return (torch.sigmoid(o) * torch.tanh(c), c)
    ar, az, an = gi.chunk(3)
    mr, mz, mn = gh.chunk(3)
    r, z = torch.sigmoid(ar + mr), torch.sigmoid(az + mz)
    n = torch.tanh(an + r * mn)
    return ((1 - z) * n + z * state[0],)


def weights(m, l, d):
    sfx = f"_l{l}" + ("_reverse" if d else "")
    return [getattr(m, n + sfx) for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]


def run_encoder(m, cell, act, xs):
    """xs (L, E) of one sequence -> outputs (L, D·H), finals[l·D + d] = state tuple."""
    D = 2 if m.bidirectional else 1
    H = m.hidden_size
    inp = xs
    finals = []
    for l in range(m.num_layers):
        outs = []
        for d in range(D):
            W = weights(m, l, d)
            st = tuple(torch.zeros(H, dtype=xs.dtype) for _ in range(2 if cell == "lstm" else 1))
            hs = [None] * xs.shape[0]
            for t in (reversed(range(xs.shape[0])) if d else range(xs.shape[0])):
                st = cell_step(cell, act, inp[t], st, *W)
                hs[t] = st[0]
            finals.append(st)
            outs.append(torch.stack(hs))
        inp = torch.cat(outs, -1)
    return inp, finals


def run_decoder_step(m, cell, act, x, states):
    """One step of a unidirectional stack: states[l] tuples -> (top h, new states)."""
    new = []
    for l in range(m.num_layers):
        st = cell_step(cell, act, x, states[l], *weights(m, l, 0))
        new.append(st)
        x = st[0]
    return x, new


def lin(layer, x):
    return layer.weight @ x + layer.bias


def manual_seq2seq(model, src, src_len, tgt, tgt_len):
    c = model.c
    cell, act = c["cell"], c["activation"]
    total, count = 0.0, 0
    for b in range(src.shape[0]):
        L, n = src_len[b], tgt_len[b]
        mem, finals = run_encoder(model.encoder, cell, act, model.src_embed.weight[src[b, :L]])
        states = []
        for l in range(c["num_layers"]):
            st = []
            for p in range(model.parts):
                x = torch.cat([finals[l * model.D + d][p] for d in range(model.D)])
                st.append(torch.tanh(lin(model.bridge[l * model.parts + p], x)))
            states.append(tuple(st))
        inp = [BOS] + tgt[b, :n].tolist()
        out = tgt[b, :n].tolist() + [EOS]
        for t in range(n + 1):
            q, states = run_decoder_step(model.decoder, cell, act, model.tgt_embed.weight[inp[t]], states)
            if c["attention"]:
                keys = mem @ model.attn_W  # (L, dec)
                a = torch.softmax(keys @ q, 0)
                ctx = a @ mem
                o = torch.tanh(lin(model.attn_out, torch.cat([ctx, q])))
            else:
                o = q
            total = total - torch.log_softmax(lin(model.head, o), 0)[out[t]]
            count += 1
    return total / count


def manual_generator(model, categories, ids, lengths):
    c = model.c
    cell, act = c["cell"], c["activation"]
    total, count = 0.0, 0
    for b in range(ids.shape[0]):
        n = lengths[b]
        ctx = model.category.weight[categories[b]]
        states = []
        for l in range(c["num_layers"]):
            h = torch.tanh(lin(model.init[l], ctx))
            states.append((h, torch.zeros_like(h)) if cell == "lstm" else (h,))
        inp = [BOS] + ids[b, :n].tolist()
        out = ids[b, :n].tolist() + [EOS]
        for t in range(n + 1):
            y, states = run_decoder_step(model.rnn, cell, act, model.embed.weight[inp[t]], states)
            total = total - torch.log_softmax(lin(model.head, y), 0)[out[t]]
            count += 1
    return total / count


def cross_check(name, model, manual_loss, loss):
    """The per-sequence recomputation's loss and autograd gradients against torch's, to 1e-10."""
    params = [p for p in model.parameters()]
    grads = torch.autograd.grad(manual_loss, params, allow_unused=True)
    rel = abs(float(manual_loss) - float(loss)) / abs(float(loss))
    assert rel <= 1e-10, f"{name}: manual loss {float(manual_loss)!r} vs torch {float(loss)!r} (rel {rel:.3g})"
    worst = rel
    for (pname, p), g in zip(model.named_parameters(), grads):
        assert g is not None, f"{name}: {pname} gets no gradient in the recomputation"
        scale = max(float(p.grad.abs().max()), 1e-300)
        err = float((g - p.grad).abs().max()) / scale
        assert err <= 1e-10, f"{name}: grad {pname} differs from the recomputation by {err:.3g} (of its max)"
        worst = max(worst, err)
    return worst


def build(case, dtype):
    c = dict(case, bos=BOS, eos=EOS)
    name, seed = c["name"], c["seed"]
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    seq2seq = c["kind"] == "seq2seq"
    model = (Seq2Seq(c) if seq2seq else Gen(c)).double()
    if seq2seq:
        src = random_ids(g, c["src_lengths"], 1, c["src_vocab"])  # <unk> may appear, <pad> only as padding
        tgt = random_ids(g, c["tgt_lengths"], 4, c["tgt_vocab"])
        tgt_len = c["tgt_lengths"]
    else:
        tgt = random_ids(g, c["lengths"], 4, c["vocab"])
        tgt_len = c["lengths"]
        categories = torch.tensor(c["categories"], dtype=torch.int64)
    if dtype == torch.float32:
        model = copy.deepcopy(model).float()
    dec_in, dec_out, dec_len = shift(tgt, tgt_len)
    if seq2seq:
        logits = model.logits(src, c["src_lengths"], dec_in, dec_len)
    else:
        logits = model.logits(categories, dec_in, dec_len)
    loss = masked_ce(logits, dec_out, dec_len)
    loss.backward()

    check = None
    if dtype == torch.float64:
        if seq2seq:
            ml = manual_seq2seq(model, src, c["src_lengths"], tgt, tgt_len)
        else:
            ml = manual_generator(model, categories, tgt, tgt_len)
        check = cross_check(name, model, ml, loss)

    pg = model.reel_params()
    names = [n for n, _, _ in pg]
    assert len(set(names)) == len(names), name
    n_torch = sum(p.numel() for p in model.parameters())
    n_reel = sum(v.numel() for _, v, _ in pg)
    bias_sums = sum(getattr(m, f"bias_hh_l{l}" + s).numel()
                    for m in ([model.encoder, model.decoder] if seq2seq else [model.rnn]) if c["cell"] != "gru"
                    for l in range(m.num_layers) for s in (["", "_reverse"] if m.bidirectional else [""]))
    assert n_torch == n_reel + bias_sums, f"{name}: {n_torch} torch values, {n_reel} reel + {bias_sums} summed biases"

    tensors = [(n, v) for n, v, _ in pg]
    if seq2seq:
        tensors += [("src_ids", src), ("src_lengths", torch.tensor(c["src_lengths"], dtype=torch.int64)),
                    ("tgt_ids", tgt), ("tgt_lengths", torch.tensor(tgt_len, dtype=torch.int64))]
    else:
        tensors += [("categories", categories), ("ids", tgt), ("lengths", torch.tensor(tgt_len, dtype=torch.int64))]
    tensors += [("logits", logits.detach()), ("loss", loss.detach())]
    tensors += [("grad_" + n, gr) for n, _, gr in pg]
    meta = [("case", name), ("kind", c["kind"]), ("dtype", "f64" if dtype == torch.float64 else "f32")]
    for k in (SEQ2SEQ_META if seq2seq else GENERATOR_META):
        v = c[k]
        meta.append((k, int(v) if isinstance(v, bool) else v))
    meta += [("batch", tgt.shape[0]), ("num_parameters", len(pg)), ("seed", seed), ("torch", torch.__version__)]
    return meta, tensors, check


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "fixtures", "seq2seq"))
    args = ap.parse_args()
    out = os.path.normpath(args.out)
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    total = 0
    for case in CASES:
        for dtype, suffix in ((torch.float64, "f64"), (torch.float32, "f32")):
            meta, tensors, check = build(case, dtype)
            path = os.path.join(out, f"{case['name']}_{suffix}.txt")
            n = write_case(path, meta, tensors, writer="tools/make_seq2seq_fixtures.py")
            total += n
            extra = f" recomputed: max rel diff {check:.3g}" if check is not None else ""
            print(f"wrote {os.path.relpath(path)} ({n} bytes) loss={dict(tensors)['loss'].item():.10g}{extra}")
    print(f"{2 * len(CASES)} fixtures, {total} bytes in {os.path.relpath(out)} (torch {torch.__version__})")
    if total > 2 * 1024 * 1024:
        sys.exit("fixtures exceed 2 MB")


if __name__ == "__main__":
    main()
