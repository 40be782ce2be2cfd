#!/usr/bin/python3
"""PyTorch equivalents of reel's training examples, for side-by-side accuracy and throughput.

Same data, split, model and hyperparameters as examples/train_classifier.cpp and
examples/train_tagger.cpp (nn.RNN tanh, nn.LSTM or nn.GRU with --cell, --layers, --bidirectional,
+ nn.Linear, Adam, clip_grad_norm_, batch 128 / 32).
Prints one JSON line in the examples' format. Run with Debian's /usr/bin/python3 (torch 1.13).
"""
import argparse, gzip, json, os, struct, sys, time

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def read_conllu(path):
    sents, words, tags = [], [], []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                if words:
                    sents.append((words, tags))
                words, tags = [], []
                continue
            if line.startswith("#"):
                continue
            cols = line.split("\t")
            if "-" in cols[0] or "." in cols[0]:
                continue
            words.append(cols[1])
            tags.append(cols[3])
    if words:
        sents.append((words, tags))
    return sents


UPOS = "ADJ ADP ADV AUX CCONJ DET INTJ NOUN NUM PART PRON PROPN PUNCT SCONJ SYM VERB X".split()


CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def recurrent(a, inp):
    return CELLS[a.cell](inp, a.hidden, num_layers=a.layers, bidirectional=a.bidirectional, batch_first=True)


class Classifier(nn.Module):
    def __init__(self, a, inp, classes):
        super().__init__()
        self.rnn = recurrent(a, inp)
        self.dirs = 2 if a.bidirectional else 1
        self.head = nn.Linear(self.dirs * a.hidden, classes)

    def forward(self, x):
        _, h = self.rnn(x)
        if isinstance(h, tuple):  # LSTM: (h_n, c_n)
            h = h[0]
        return self.head(torch.cat(list(h[-self.dirs:]), dim=1))  # the top layer's directions


class Tagger(nn.Module):
    def __init__(self, a, vocab, embed, classes):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.rnn = recurrent(a, embed)
        self.head = nn.Linear((2 if a.bidirectional else 1) * a.hidden, classes)

    def forward(self, ids, lengths):
        packed = pack_padded_sequence(self.embed(ids), lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.rnn(packed)
        return self.head(out.data), out  # logits over packed real tokens


def run_classifier(a):
    d = a.data or "/usr/share/datasets/fashion-mnist"
    xs = read_idx(os.path.join(d, "train-images-idx3-ubyte.gz")).astype(np.float32) / 255.0
    ys = read_idx(os.path.join(d, "train-labels-idx1-ubyte.gz")).astype(np.int64)
    xt = read_idx(os.path.join(d, "t10k-images-idx3-ubyte.gz")).astype(np.float32) / 255.0
    yt = read_idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
    n_train = len(xs) - 5000
    x_tr, y_tr = torch.from_numpy(xs[:n_train]), torch.from_numpy(ys[:n_train])
    x_dev, y_dev = torch.from_numpy(xs[n_train:]), torch.from_numpy(ys[n_train:])
    model = Classifier(a, 28, 10)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    loss_fn = nn.CrossEntropyLoss()

    def acc(x, y):
        with torch.no_grad():
            return sum((model(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum().item()
                       for i in range(0, len(x), 1000)) / len(x)

    g = torch.Generator().manual_seed(a.seed)
    train_s, best, best_state, loss_v = 0.0, -1, None, 0.0
    for epoch in range(a.epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(n_train, generator=g)
        tot = 0.0
        for i in range(0, n_train, a.batch):
            idx = perm[i:i + a.batch]
            opt.zero_grad()
            loss = loss_fn(model(x_tr[idx]), y_tr[idx])
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            tot += loss.item() * len(idx)
        train_s += time.perf_counter() - t0
        loss_v = tot / n_train
        dev = acc(x_dev, y_dev)
        print(f"epoch {epoch + 1} loss {loss_v:.4f} dev {dev:.4f} {n_train / (time.perf_counter() - t0):.0f} seq/s",
              file=sys.stderr)
        if dev > best:
            best, best_state = dev, {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    return dict(task="fashion_mnist_rowwise", cell=a.cell, layers=a.layers, bidirectional=int(a.bidirectional),
                epochs=a.epochs, train_loss=loss_v, dev_accuracy=best,
                test_accuracy=acc(torch.from_numpy(xt), torch.from_numpy(yt)), seconds=train_s,
                sequences_per_second=a.epochs * n_train / train_s)


def run_tagger(a):
    d = a.data or os.path.join(os.path.dirname(__file__), "..", "data", "ud-english-ewt")
    tr, dv, te = (read_conllu(os.path.join(d, f"en_ewt-ud-{s}.conllu.gz")) for s in ("train", "dev", "test"))
    counts = {}
    for w, _ in tr:
        for x in w:
            counts[x.lower()] = counts.get(x.lower(), 0) + 1
    vocab = {"<pad>": 0, "<unk>": 1}
    for w, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if c >= 2:
            vocab[w] = len(vocab)
    tag_id = {t: i for i, t in enumerate(UPOS)}
    enc = lambda data: [([vocab.get(x.lower(), 1) for x in w], [tag_id[t] for t in tg]) for w, tg in data]
    tr, dv, te = enc(tr), enc(dv), enc(te)
    model = Tagger(a, len(vocab), 100, len(UPOS))
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    loss_fn = nn.CrossEntropyLoss()

    def batch(data, idx):
        lens = torch.tensor([len(data[i][0]) for i in idx])
        ids = torch.zeros(len(idx), int(lens.max()), dtype=torch.long)
        tags = torch.zeros_like(ids)
        for k, i in enumerate(idx):
            ids[k, :lens[k]] = torch.tensor(data[i][0])
            tags[k, :lens[k]] = torch.tensor(data[i][1])
        packed_tags = pack_padded_sequence(tags, lens, batch_first=True, enforce_sorted=False).data
        return ids, lens, packed_tags

    def acc(data):
        right = total = 0
        with torch.no_grad():
            for i in range(0, len(data), 256):
                ids, lens, tags = batch(data, range(i, min(len(data), i + 256)))
                logits, _ = model(ids, lens)
                right += (logits.argmax(1) == tags).sum().item()
                total += len(tags)
        return right / total

    g = torch.Generator().manual_seed(a.seed)
    train_s, best, best_state, loss_v = 0.0, -1, None, 0.0
    for epoch in range(a.epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(len(tr), generator=g).tolist()
        tot = ntok = 0
        for i in range(0, len(tr), a.batch):
            ids, lens, tags = batch(tr, perm[i:i + a.batch])
            opt.zero_grad()
            logits, _ = model(ids, lens)
            loss = loss_fn(logits, tags)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            tot += loss.item() * len(tags)
            ntok += len(tags)
        train_s += time.perf_counter() - t0
        loss_v = tot / ntok
        dev = acc(dv)
        print(f"epoch {epoch + 1} loss {loss_v:.4f} dev {dev:.4f} {len(tr) / (time.perf_counter() - t0):.0f} sent/s",
              file=sys.stderr)
        if dev > best:
            best, best_state = dev, {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    return dict(task="ud_ewt_upos", cell=a.cell, layers=a.layers, bidirectional=int(a.bidirectional), epochs=a.epochs, train_loss=loss_v, dev_accuracy=best, test_accuracy=acc(te),
                seconds=train_s, sequences_per_second=a.epochs * len(tr) / train_s)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("task", choices=["classifier", "tagger"])
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--data", default=None)
    p.add_argument("--cell", choices=sorted(CELLS), default="rnn")
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--bidirectional", action="store_true")
    a = p.parse_args()
    a.batch = a.batch or (128 if a.task == "classifier" else 32)
    torch.set_num_threads(a.threads)
    torch.set_flush_denormal(True)
    torch.manual_seed(a.seed)
    print(json.dumps(run_classifier(a) if a.task == "classifier" else run_tagger(a)))


if __name__ == "__main__":
    main()
