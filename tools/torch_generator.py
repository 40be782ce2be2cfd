#!/usr/bin/python3
"""PyTorch's twin of examples/train_generator.cpp: the same per-language word generator trained on
the same words of Debian's word lists, so that reel's figures can be compared with PyTorch's. Needs
Debian's python3-torch (run with /usr/bin/python3); CPU only.

    /usr/bin/python3 tools/torch_generator.py [--cell gru] [--per-language 20000] [--threads 1]

What is the same as reel's (the specification is reel's sources):
  * data (examples/generator_common.h): each language of --languages read by tools/g2p_data.py as
    data/wordlist.h reads it (apostrophes dropped, deduplicated); its training words are its
    train-split words with the --per-language smallest fnv1a64 hashes (ties: the word), dev and
    test the per_language/18 (at least 1; 0: all) smallest-hash words of those splits; symbols =
    [<pad>, <unk>, <s>, </s>] + code points by descending count over all training words (ties by
    byte order), a code point never seen in training is <unk>; a word's label is its language's
    index.
  * the model (models/generator.h): a category embedding (context) -> per layer h0 =
    tanh(Linear(context)), an LSTM's c0 = 0 -> symbol embedding -> nn.GRU/LSTM/RNN (batch_first)
    -> head Linear; teacher-forced: input [<s>=2, chars...], output [chars..., </s>=3]; loss = mean
    next-symbol cross-entropy over the characters and each </s>. Defaults (GeneratorConfig): gru,
    hidden 128, embed 32, context 32, 1 layer.
  * initialisation: PyTorch's defaults (nn.Embedding N(0, 1), nn.Linear, the recurrent modules'),
    the distributions reel draws from (not the same numbers).
  * training: Adam (torch defaults but --lr), total-norm clipping --clip, batches of --batch made
    as data/batching.h's make_batches with bucket_by_length (shuffled, chunks of 50 batches sorted
    by length, longest first, then the batches shuffled), a new order every epoch (Python's random
    numbers, so not reel's very batches).
  * metric: bits per char = summed next-symbol NLL (characters and </s>) / their count / ln 2, on
    dev after every epoch; the best epoch (lowest) is kept and measured on test.
  * sampling (Generator::generate): --samples words per language at --temperature (softmax of
    logits / temperature), at most --max-len symbols each; shares of real unseen words (in the
    language's full list, not in its training words), of words copied from training, and of
    malformed ones (empty, no </s> within max-len, or holding an id < 4: <pad>, <unk>, <s>).

Prints a line per epoch (loss, dev bits per char, seconds) and at the end ONE JSON line with the keys
of train_generator's, plus "impl": "pytorch". seconds_per_epoch is training only.
"""
import argparse
import copy
import csv
import json
import math
import os
import random
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import g2p_data  # noqa: E402
from splits import fnv1a64, split_of  # noqa: E402
from torch_g2p import CELLS, g6, make_batches, shifted, utf8_key  # noqa: E402

SHUFFLE_SEED_OFFSET = 0x5EED  # train_generator seeds its DataLoader with seed + 0x5eed
SAMPLER_SEED_OFFSET = 0x5A3B1E  # and its sampler with seed + 0x5a3b1e
EOS = 3


# ---- data ------------------------------------------------------------------------------------

def hash_subset(words, split, n):
    """examples/generator_common.h hash_subset: the split's words with the smallest hashes (ties:
    the word), at most n (0: all), in hash order."""
    h = sorted(((fnv1a64(w), utf8_key(w), w) for w in words if split_of(w) == split))
    if n > 0:
        h = h[:n]
    return [w for _, _, w in h]


class Task:
    """examples/generator_common.h word_task."""

    def __init__(self, languages, per_language):
        self.languages = languages
        lists = [g2p_data.read_language(lang) for lang in languages]
        train = [hash_subset(words, "train", per_language) for words in lists]
        counts = {}
        for words in train:
            for w in words:
                for c in g2p_data.code_points(w):
                    counts[c] = counts.get(c, 0) + 1
        kept = sorted(((c, n) for c, n in counts.items() if c not in ("<pad>", "<unk>")),
                      key=lambda cn: (-cn[1], utf8_key(cn[0])))
        self.symbols = ["<pad>", "<unk>", "<s>", "</s>"] + [c for c, _ in kept]
        index = {s: i for i, s in enumerate(self.symbols)}
        held = max(1, per_language // 18) if per_language > 0 else 0
        self.train, self.dev, self.test = [], [], []  # (ids, language index)
        self.all_words, self.train_words = [], []
        for l, words in enumerate(lists):
            for dest, ws in ((self.train, train[l]), (self.dev, hash_subset(words, "dev", held)),
                             (self.test, hash_subset(words, "test", held))):
                dest.extend(([index.get(c, 1) for c in g2p_data.code_points(w)], l) for w in ws)
            self.all_words.append(set(words))
            self.train_words.append(set(train[l]))
        for name, d in (("train", self.train), ("dev", self.dev), ("test", self.test)):
            if not d or any(not ids for ids, _ in d):
                raise SystemExit("error: the %s split is empty or holds an empty word" % name)


# ---- the model -------------------------------------------------------------------------------

class Generator(nn.Module):
    """models/generator.h's Generator with a category context."""

    def __init__(self, vocab, categories, context, embed, hidden, cell, layers):
        super().__init__()
        self.lstm = cell == "lstm"
        self.category = nn.Embedding(categories, context)
        self.init = nn.ModuleList(nn.Linear(context, hidden) for _ in range(layers))
        self.embed = nn.Embedding(vocab, embed)
        self.rnn = CELLS[cell](embed, hidden, layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def initial_state(self, categories):
        ctx = self.category(categories)
        h0 = torch.stack([torch.tanh(lin(ctx)) for lin in self.init])
        return (h0, torch.zeros_like(h0)) if self.lstm else h0

    def nll(self, categories, seqs, reduction="mean"):
        """Next-symbol cross-entropy over every character and each </s> (mean or sum)."""
        inp, out = shifted(seqs)
        h, _ = self.rnn(self.embed(inp), self.initial_state(categories))
        logits = self.head(h)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), out.reshape(-1), ignore_index=-100,
                               reduction=reduction)

    @torch.no_grad()
    def generate(self, categories, max_len, temperature, gen):
        """Generator::generate: (tokens without </s>, ended) per row, sampling from gen."""
        B = categories.shape[0]
        state = self.initial_state(categories)
        tokens, ended = [[] for _ in range(B)], [False] * B
        alive = list(range(B))
        prev = torch.full((B, 1), 2, dtype=torch.long)
        while alive:
            out, state = self.rnn(self.embed(prev), state)
            probs = torch.softmax(self.head(out[:, 0]).double() / temperature, -1)
            nxt = torch.multinomial(probs, 1, generator=gen)[:, 0].tolist()
            keep, still = [], []
            for i, (b, v) in enumerate(zip(alive, nxt)):
                if v == EOS:
                    ended[b] = True
                    continue
                tokens[b].append(v)
                if len(tokens[b]) >= max_len:
                    continue
                keep.append(i)
                still.append(b)
            if not still:
                break
            rows = torch.tensor(keep, dtype=torch.long)
            state = tuple(s.index_select(1, rows) for s in state) if self.lstm else state.index_select(1, rows)
            prev = torch.tensor([tokens[b][-1] for b in still], dtype=torch.long)[:, None]
            alive = still
        return tokens, ended


@torch.no_grad()
def bits_per_char(model, data):
    """Summed NLL over a split (batches of 512 in order) / symbols / ln 2."""
    model.eval()
    nats = n = 0.0
    for start in range(0, len(data), 512):
        part = data[start:start + 512]
        seqs = [ids for ids, _ in part]
        nats += model.nll(torch.tensor([l for _, l in part]), seqs, reduction="sum").item()
        n += sum(len(s) for s in seqs) + len(seqs)
    return nats / n / math.log(2)


def main(argv=None):
    p = argparse.ArgumentParser(description="PyTorch twin of reel's train_generator (per-language word generation).")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--clip", type=float, default=1.0, help="total gradient-norm clipping (0: off)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    p.add_argument("--cell", choices=sorted(CELLS), default="gru")
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--languages", default="en,fr,de,es", help="comma-separated languages (categories, in this order)")
    p.add_argument("--per-language", type=int, default=20000, help="training words per language, by smallest hash (0: all)")
    p.add_argument("--embed", type=int, default=32, help="symbol embedding size")
    p.add_argument("--context", type=int, default=32, help="category embedding (context) size")
    p.add_argument("--samples", type=int, default=1000, help="words sampled per language at the end")
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--max-len", type=int, default=30, help="symbols at most per sampled word")
    p.add_argument("--metrics", default="", help="per-epoch metrics CSV file")
    a = p.parse_args(argv)
    if not a.temperature > 0:
        p.error("--temperature: expected > 0")
    t_start = time.perf_counter()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    shuffle_rng = random.Random(a.seed + SHUFFLE_SEED_OFFSET)

    task = Task([s for s in a.languages.split(",") if s], a.per_language)
    print("word lists: %d / %d / %d words in %d languages, %d symbols"
          % (len(task.train), len(task.dev), len(task.test), len(task.languages), len(task.symbols) - 4), flush=True)
    model = Generator(len(task.symbols), len(task.languages), a.context, a.embed, a.hidden, a.cell, a.layers)
    print("model: %s, %d layer(s), hidden %d, embed %d, context %d; %d parameters; torch %s, %d thread(s)"
          % (a.cell, a.layers, a.hidden, a.embed, a.context, sum(q.numel() for q in model.parameters()),
             torch.__version__, torch.get_num_threads()), flush=True)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    lengths = [len(ids) for ids, _ in task.train]
    n_train = len(task.train)
    best_dev, best_state, train_seconds = None, None, 0.0
    metrics = None
    if a.metrics:
        metrics = csv.writer(open(a.metrics, "w", newline=""))
        metrics.writerow(["epoch", "train_bits_per_char", "dev_bits_per_char", "seconds", "sequences_per_second"])
    for epoch in range(1, a.epochs + 1):
        model.train()
        t0 = time.perf_counter()
        nats = n = 0.0
        for batch in make_batches(lengths, a.batch, shuffle_rng):
            seqs = [task.train[i][0] for i in batch]
            k = sum(len(s) for s in seqs) + len(seqs)  # characters and each </s>
            opt.zero_grad(set_to_none=True)
            loss = model.nll(torch.tensor([task.train[i][1] for i in batch]), seqs)
            loss.backward()
            if a.clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip)
            opt.step()
            nats += k * loss.item()
            n += k
        secs = time.perf_counter() - t0
        train_seconds += secs
        dev_bpc = bits_per_char(model, task.dev)
        train_bpc = nats / n / math.log(2)
        print("epoch %d/%d  train_bits_per_char %.4f  dev_bits_per_char %.4f  %.1fs train (%.0f words/s)"
              % (epoch, a.epochs, train_bpc, dev_bpc, secs, n_train / secs), flush=True)
        if metrics:
            metrics.writerow([epoch, train_bpc, dev_bpc, secs, n_train / secs])
        if best_dev is None or dev_bpc < best_dev:  # CheckpointManager: strictly better replaces
            best_dev, best_state = dev_bpc, copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    test_bpc = bits_per_char(model, task.test)
    j = {"task": "word_generation", "cell": a.cell, "hidden": a.hidden, "epochs": a.epochs, "seed": a.seed,
         "train_words": n_train, "dev_bits_per_char": g6(best_dev), "test_bits_per_char": g6(test_bpc)}
    gen = torch.Generator().manual_seed(a.seed + SAMPLER_SEED_OFFSET)
    model.eval()
    for l, lang in enumerate(task.languages):
        if a.samples <= 0:
            break
        tokens, ended = model.generate(torch.full((a.samples,), l, dtype=torch.long), a.max_len, a.temperature, gen)
        novel = copied = malformed = 0
        examples = []
        for toks, end in zip(tokens, ended):
            special = any(t < 4 for t in toks)
            w = "".join(task.symbols[t] for t in toks if t >= 4)
            if special or not w or not end:
                malformed += 1
            elif w in task.train_words[l]:
                copied += 1
            elif w in task.all_words[l]:
                novel += 1
            if len(examples) < 8:
                examples.append(w)
        s = float(len(tokens))
        print("%s: %.1f%% real unseen words, %.1f%% copied from training, %.1f%% malformed; e.g. %s"
              % (lang, 100 * novel / s, 100 * copied / s, 100 * malformed / s, " ".join(examples)), flush=True)
        j[lang + "_novel_real"] = g6(novel / s)
        j[lang + "_copied"] = g6(copied / s)
        j[lang + "_malformed"] = g6(malformed / s)
    j["seconds_per_epoch"] = g6(train_seconds / a.epochs)
    j["words_per_second"] = g6(n_train * a.epochs / train_seconds)
    j["seconds"] = g6(time.perf_counter() - t_start)
    j["impl"] = "pytorch"
    print(json.dumps(j, separators=(",", ":"), ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
