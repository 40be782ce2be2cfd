#!/usr/bin/python3
"""PyTorch's twin of examples/train_g2p.cpp: the same grapheme-to-phoneme encoder-decoder trained on
the same CMUdict words, so that reel's figures can be compared with PyTorch's. Needs Debian's
python3-torch (run with /usr/bin/python3); CPU only.

    /usr/bin/python3 tools/torch_g2p.py [--attention] [--bidirectional] [--cell lstm] [--threads 1]

What is the same as reel's (the specification is reel's sources):
  * data (examples/g2p_common.h): tools/g2p_data.py reads CMUdict as the C++ reader does; every
    split's entries in the order of fnv1a64(word) (ties: the word); --limit N keeps the first N
    training words of that order; letters = code points, vocabulary from the training words'
    counts (<pad> 0, <unk> 1, then by descending count, ties by byte order: data/vocab.h); phones
    = [<pad>, <unk>, <s>, </s>] + the dictionary's sorted phone set; every pronunciation of a
    training word is one training pair; dev/test words are scored against all their
    pronunciations (models/sequence_metrics.h: a word error unless the hypothesis equals one,
    phone errors = edit distance to the closest reference over that reference's length, summed).
  * the model (models/seq2seq.h): src embedding -> encoder nn.LSTM/GRU/RNN (batch_first, layers,
    bidirectional, packed by length) -> bridge: per decoder layer and state part (h; c for an
    LSTM) tanh(Linear(that layer's final states, directions side by side)) -> decoder of the same
    cell, unidirectional, hidden = directions * hidden -> optional Luong "general" attention
    (keys = memory @ W_a, W_a ~ U(+-1/sqrt(enc_out)), masked softmax over the source, ctx = sum
    a * memory, o = tanh(Linear([ctx; q]))) -> head Linear. Decoder input [<s>=2, y...], output
    [y..., </s>=3]; loss = mean cross-entropy over the real target tokens and each </s>.
    --teacher-forcing below 1 runs the decoder step by step with one coin per step for the
    whole batch (gold previous phone, else the previous step's argmax), as reel does.
  * initialisation: PyTorch's defaults (nn.LSTM/GRU/RNN, nn.Linear, nn.Embedding N(0, 1)), the
    distributions reel draws from (not the same numbers).
  * training: Adam (torch defaults but --lr), total-norm clipping --clip, batches of --batch
    made as data/batching.h's make_batches with bucket_by_length: the training pairs shuffled,
    cut into chunks of 50 batches, each chunk stably sorted by source length (longest first) and
    cut into batches, then the batches shuffled; a new order every epoch (the numbers drawn are
    Python's, not reel's Rng, so the batches are not reel's own).
  * decoding (models/decoding.cpp): greedy (argmax, ties the lower id) and beam search (per source
    width k: the top 2k candidates by cumulative log-probability, ties by the lower j*V+v; </s>
    candidates become finished hypotheses until k are, the first k others continue; a source
    stops once k have finished; at max_len the open beams are added unended; score = log_prob /
    length, length = tokens (+1 for </s>); the best score wins, ties the first found).
    max_len = the longest training pronunciation + 5.
  * selection: the epoch with the best dev word accuracy (greedy) is kept and scored on the test
    split, greedy and with --beam; --eval-limit N scores only the first N dev and test words (hash
    order; 0: all), as train_g2p's flag does.

Prints a line per epoch (loss, dev metrics, seconds) and at the end ONE JSON line with the keys of
train_g2p's, plus "impl": "pytorch". seconds_per_epoch is training only (no dev decoding).
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
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import g2p_data  # noqa: E402
from splits import fnv1a64  # noqa: E402

PAD, UNK, BOS, EOS = 0, 1, 2, 3
BUCKET_CHUNK_BATCHES = 50  # data/batching.h kBucketChunkBatches
SHUFFLE_SEED_OFFSET = 0x5EED  # train_g2p seeds its DataLoader with seed + 0x5eed
COIN_SEED_OFFSET = 0xC0171  # and its teacher-forcing coin with seed + 0xc0171
CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


# ---- data ------------------------------------------------------------------------------------

def utf8_key(s):
    """std::string's order: the UTF-8 bytes."""
    return s.encode("utf-8", "surrogateescape")


def by_hash(entries):
    """examples/g2p_common.h by_hash: entries ordered by fnv1a64(word), ties by the word."""
    return sorted(entries, key=lambda e: (fnv1a64(e[0]), utf8_key(e[0])))


def vocab_from_counts(counts):
    """data/vocab.h Vocab::from_counts(counts, 1): <pad>, <unk>, then by descending count, ties by
    byte order; returns (words, {word: id})."""
    kept = [(w, c) for w, c in counts.items() if c > 0 and w and w not in ("<pad>", "<unk>")]
    kept.sort(key=lambda wc: (-wc[1], utf8_key(wc[0])))
    words = ["<pad>", "<unk>"] + [w for w, _ in kept]
    return words, {w: i for i, w in enumerate(words)}


class Split:
    def __init__(self, entries, letter_index, phone_index):
        self.words = [w for w, _ in entries]
        self.sources = [[letter_index.get(c, UNK) for c in g2p_data.code_points(w)] for w in self.words]
        self.refs = [[[phone_index[p] for p in pron] for pron in prons] for _, prons in entries]


class Task:
    """examples/g2p_common.h g2p_task."""

    def __init__(self, dict_path, limit):
        d = g2p_data.read_cmudict(dict_path)
        train = by_hash(d.split_entries("train"))
        if limit > 0:
            train = train[:limit]
        counts = {}
        for w, _ in train:
            for c in g2p_data.code_points(w):
                counts[c] = counts.get(c, 0) + 1
        self.letters, letter_index = vocab_from_counts(counts)
        self.phones = ["<pad>", "<unk>", "<s>", "</s>"] + d.phone_set()
        phone_index = {p: i for i, p in enumerate(self.phones)}
        self.train_src, self.train_tgt = [], []
        self.max_phones = 0
        for w, prons in train:
            src = [letter_index[c] for c in g2p_data.code_points(w)]
            for pron in prons:
                self.train_src.append(src)
                self.train_tgt.append([phone_index[p] for p in pron])
                self.max_phones = max(self.max_phones, len(pron))
        self.dev = Split(by_hash(d.split_entries("dev")), letter_index, phone_index)
        self.test = Split(by_hash(d.split_entries("test")), letter_index, phone_index)


def make_batches(lengths, batch_size, rng):
    """data/batching.h make_batches(shuffle = true, bucket_by_length = true), with rng a random.Random."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    chunk = batch_size * BUCKET_CHUNK_BATCHES
    for start in range(0, len(order), chunk):
        order[start:start + chunk] = sorted(order[start:start + chunk], key=lambda i: -lengths[i])  # stable
    batches = [order[s:s + batch_size] for s in range(0, len(order), batch_size)]
    rng.shuffle(batches)
    return batches


def pad(seqs, value=PAD):
    """(batch, max_len) int64 tensor and the lengths."""
    lengths = [len(s) for s in seqs]
    out = torch.full((len(seqs), max(lengths)), value, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, :len(s)] = torch.tensor(s, dtype=torch.long)
    return out, torch.tensor(lengths, dtype=torch.long)


def shifted(targets):
    """models/shifted_targets.h: decoder input [<s>, y...] and output [y..., </s>], -100 (ignored)
    past each sequence's end."""
    y, lengths = pad(targets)
    B, T = y.shape
    inp = torch.cat([torch.full((B, 1), BOS, dtype=torch.long), y], 1)
    out = torch.cat([y, torch.full((B, 1), PAD, dtype=torch.long)], 1)
    out[torch.arange(B), lengths] = EOS
    out[torch.arange(T + 1)[None, :] > lengths[:, None]] = -100
    return inp, out


# ---- the model -------------------------------------------------------------------------------

class EncoderDecoder(nn.Module):
    """models/seq2seq.h's EncoderDecoder (the module docstring)."""

    def __init__(self, src_vocab, tgt_vocab, embed, hidden, cell, layers, bidirectional, attention):
        super().__init__()
        rnn = CELLS[cell]
        self.lstm = cell == "lstm"
        self.layers, self.dirs = layers, 2 if bidirectional else 1
        self.attention = attention
        enc_out = self.dirs * hidden
        dec = enc_out  # Seq2SeqConfig::decoder_dim() with decoder_hidden = 0
        self.parts = 2 if self.lstm else 1
        self.src_embed = nn.Embedding(src_vocab, embed)
        self.encoder = rnn(embed, hidden, layers, batch_first=True, bidirectional=bidirectional)
        self.bridge = nn.ModuleList(nn.Linear(enc_out, dec) for _ in range(layers * self.parts))
        self.tgt_embed = nn.Embedding(tgt_vocab, embed)
        self.decoder = rnn(embed, dec, layers, batch_first=True)
        if attention:
            bound = 1.0 / math.sqrt(enc_out)
            self.attn_W = nn.Parameter(torch.empty(enc_out, dec).uniform_(-bound, bound))
            self.attn_out = nn.Linear(enc_out + dec, dec)
        self.head = nn.Linear(dec, tgt_vocab)

    def encode(self, src, lengths):
        """-> dict: memory (B, S, enc_out), keys (B, S, dec), mask (B, S) bool, init (decoder state)."""
        B, S = src.shape
        packed = pack_padded_sequence(self.src_embed(src), lengths, batch_first=True, enforce_sorted=False)
        out, final = self.encoder(packed)
        parts = list(final) if self.lstm else [final]  # each (layers * dirs, B, hidden), layer-major
        init = []
        for p, s in enumerate(parts):
            s = s.view(self.layers, self.dirs, B, -1).permute(0, 2, 1, 3).reshape(self.layers, B, -1)
            init.append(torch.stack([torch.tanh(self.bridge[l * self.parts + p](s[l])) for l in range(self.layers)]))
        enc = {"init": tuple(init) if self.lstm else init[0],
               "mask": torch.arange(S)[None, :] < lengths[:, None]}
        if self.attention:
            memory = pad_packed_sequence(out, batch_first=True, total_length=S)[0]  # 0 at padding
            enc["memory"] = memory
            enc["keys"] = memory @ self.attn_W
        return enc

    def attend(self, enc, q):
        scores = q @ enc["keys"].transpose(1, 2)  # (B, T, S)
        scores = scores.masked_fill(~enc["mask"][:, None, :], float("-inf"))
        ctx = torch.softmax(scores, -1) @ enc["memory"]
        return torch.tanh(self.attn_out(torch.cat([ctx, q], -1)))

    def decode(self, enc, inp, state):
        """Logits (B, T, V) of decoder inputs inp (B, T) from state, and the state after."""
        q, state = self.decoder(self.tgt_embed(inp), state)
        return self.head(self.attend(enc, q) if self.attention else q), state

    def loss(self, src, lengths, targets, teacher_forcing=1.0, coin=None):
        enc = self.encode(src, lengths)
        inp, out = shifted(targets)
        if teacher_forcing >= 1:
            logits, _ = self.decode(enc, inp, enc["init"])
        else:  # EncoderDecoder::stepwise_logits: one coin per step for the whole batch
            steps, state, prev = [], enc["init"], inp[:, :1]
            for t in range(inp.shape[1]):
                if t > 0:
                    prev = inp[:, t:t + 1] if coin.random() < teacher_forcing else steps[-1].argmax(-1).detach()
                logit, state = self.decode(enc, prev, state)
                steps.append(logit)
            logits = torch.cat(steps, 1)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), out.reshape(-1), ignore_index=-100)


def select_rows(enc_or_state, rows):
    if isinstance(enc_or_state, tuple):
        return tuple(s.index_select(1, rows) for s in enc_or_state)
    return enc_or_state.index_select(1, rows)


@torch.no_grad()
def greedy_decode(model, src, lengths, max_len):
    """models/decoding.cpp greedy_decode: each source's tokens (without </s>)."""
    enc = model.encode(src, lengths)
    B = src.shape[0]
    prev = torch.full((B, 1), BOS, dtype=torch.long)
    state = enc["init"]
    chosen, ended = [], torch.zeros(B, dtype=torch.bool)
    for _ in range(max_len):
        logits, state = model.decode(enc, prev, state)
        prev = logits.argmax(-1)  # (B, 1); ties: the first maximum
        chosen.append(prev[:, 0])
        ended |= prev[:, 0] == EOS
        if bool(ended.all()):
            break
    out = []
    for row in torch.stack(chosen, 1).tolist():
        out.append(row[:row.index(EOS)] if EOS in row else row)
    return out


def length_normalized(log_prob, tokens, ended, penalty=1.0):
    n = tokens + (1 if ended else 0)
    return log_prob if penalty == 0 or n == 0 else log_prob / n ** penalty


@torch.no_grad()
def beam_search(model, src, lengths, k, max_len, penalty=1.0, nbest=False):
    """models/decoding.cpp beam_search: each source's best hypothesis (tokens without </s>); nbest:
    each source's hypotheses (tokens, log_prob, score, ended), best first."""
    enc0 = model.encode(src, lengths)
    B = src.shape[0]
    V = model.head.out_features
    rows = torch.arange(B * k) // k
    enc = {"init": select_rows(enc0["init"], rows), "mask": enc0["mask"][rows]}
    if model.attention:
        enc["memory"], enc["keys"] = enc0["memory"][rows], enc0["keys"][rows]
    dead = float("-inf")
    tokens = [[[] for _ in range(k)] for _ in range(B)]
    log_prob = [[0.0] + [dead] * (k - 1) for _ in range(B)]  # one live beam at the start
    done = [[] for _ in range(B)]
    finished = [False] * B
    prev = torch.full((B * k, 1), BOS, dtype=torch.long)
    state = enc["init"]
    for _ in range(max_len):
        logits, new_state = model.decode(enc, prev, state)
        lp = torch.log_softmax(logits[:, 0].double(), -1)  # in double, as reel's log_sum_exp
        base = torch.tensor(log_prob, dtype=torch.float64).view(B * k, 1)
        cand = (base + lp).view(B, k * V)  # dead beams stay -inf
        vals, flat = torch.sort(cand, stable=True, dim=1, descending=True)  # ties: the lower j*V+v
        vals, flat = vals[:, :2 * k].tolist(), flat[:, :2 * k].tolist()
        rows = list(range(B * k))  # finished sources' rows stay put
        next_prev = prev[:, 0].tolist()
        is_open = False
        for b in range(B):
            if finished[b]:
                continue
            toks, lps, parent = [], [], []
            for lpv, f in zip(vals[b], flat[b]):
                if lpv == dead or len(toks) >= k:
                    break  # the dead beams' candidates sort last
                j, v = divmod(f, V)
                hist = tokens[b][j]
                if v == EOS:
                    if len(done[b]) < k:
                        done[b].append((hist, lpv, length_normalized(lpv, len(hist), True, penalty), True))
                    continue
                toks.append(hist + [v])
                lps.append(lpv)
                parent.append(j)
            if len(done[b]) >= k:
                finished[b] = True
            while len(toks) < k:
                toks.append([])
                lps.append(dead)
                parent.append(0)
            tokens[b] = toks
            log_prob[b] = lps
            for j in range(k):
                rows[b * k + j] = b * k + parent[j]
                next_prev[b * k + j] = toks[j][-1] if toks[j] else BOS
            is_open = is_open or not finished[b]
        prev = torch.tensor(next_prev, dtype=torch.long)[:, None]
        if not is_open:
            break
        state = select_rows(new_state, torch.tensor(rows, dtype=torch.long))
    best = []
    for b in range(B):
        hyps = done[b]
        if not finished[b]:
            for j in range(k):
                if len(hyps) >= k:
                    break
                lpv = log_prob[b][j]
                if lpv != dead:
                    hyps.append((tokens[b][j], lpv, length_normalized(lpv, len(tokens[b][j]), False, penalty), False))
        hyps = sorted(hyps, key=lambda h: -h[2])  # stable: ties keep the first found
        best.append(hyps if nbest else hyps[0][0] if hyps else [])
    return best


# ---- scoring ---------------------------------------------------------------------------------

def edit_distance(a, b):
    row = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        diag, row[0] = row[0], i
        for j in range(1, len(b) + 1):
            up = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1]))
            diag = up
    return row[len(b)]


class ErrorRates:
    """models/sequence_metrics.h ErrorRates."""

    def __init__(self):
        self.words = self.word_errors = self.edits = self.ref_symbols = 0

    def add(self, hyp, refs):
        best, best_len = -1, 0
        for r in refs:
            d = edit_distance(hyp, r)
            if best < 0 or d < best:
                best, best_len = d, len(r)
        self.words += 1
        self.word_errors += best != 0
        self.edits += best
        self.ref_symbols += best_len

    def wer(self):
        return self.word_errors / self.words if self.words else 0.0

    def per(self):
        return self.edits / self.ref_symbols if self.ref_symbols else 0.0


def score_split(model, split, beam, max_len, limit=0):
    """examples/g2p_common.h score_split: batches of 256 (greedy) or 64 (beam) in split order."""
    model.eval()
    r = ErrorRates()
    n = len(split.sources) if limit <= 0 else min(limit, len(split.sources))
    size = 64 if beam > 1 else 256
    for start in range(0, n, size):
        idx = range(start, min(n, start + size))
        src, lengths = pad([split.sources[i] for i in idx])
        hyps = beam_search(model, src, lengths, beam, max_len) if beam > 1 else greedy_decode(model, src, lengths, max_len)
        for i, h in zip(idx, hyps):
            r.add(h, split.refs[i])
    return r


def g6(v):
    """A float as JsonLine prints it (6 significant digits)."""
    return float("%.6g" % v)


def main(argv=None):
    p = argparse.ArgumentParser(description="PyTorch twin of reel's train_g2p (CMUdict letters -> phones).")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--embed", type=int, default=64, help="letter and phone embedding size")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--clip", type=float, default=1.0, help="total gradient-norm clipping (0: off)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    p.add_argument("--cell", choices=sorted(CELLS), default="lstm")
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--bidirectional", action="store_true")
    p.add_argument("--attention", action="store_true")
    p.add_argument("--teacher-forcing", type=float, default=1.0)
    p.add_argument("--beam", type=int, default=5)
    p.add_argument("--limit", type=int, default=0, help="train on the first N training words only (0: all)")
    p.add_argument("--eval-limit", type=int, default=0, help="score only the first N dev and test words, in hash order (0: all)")
    p.add_argument("--dict", default=g2p_data.CMUDICT_PATH)
    p.add_argument("--metrics", default="", help="per-epoch metrics CSV file")
    a = p.parse_args(argv)
    if not 0 <= a.teacher_forcing <= 1:
        p.error("--teacher-forcing: expected 0..1")
    t_start = time.perf_counter()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    shuffle_rng = random.Random(a.seed + SHUFFLE_SEED_OFFSET)
    coin = random.Random(a.seed + COIN_SEED_OFFSET)

    task = Task(a.dict, a.limit)
    print("CMUdict: %d training pairs, %d dev and %d test words; %d letters, %d phones"
          % (len(task.train_src), len(task.dev.words), len(task.test.words), len(task.letters) - 2,
             len(task.phones) - 4), flush=True)
    model = EncoderDecoder(len(task.letters), len(task.phones), a.embed, a.hidden, a.cell, a.layers,
                           a.bidirectional, a.attention)
    print("model: %s, %d layer(s), hidden %d%s%s, embed %d; %d parameters; torch %s, %d thread(s)"
          % (a.cell, a.layers, a.hidden, ", bidirectional" if a.bidirectional else "",
             ", attention" if a.attention else "", a.embed, sum(q.numel() for q in model.parameters()),
             torch.__version__, torch.get_num_threads()), flush=True)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    max_len = task.max_phones + 5
    lengths = [len(s) for s in task.train_src]
    n_train = len(task.train_src)
    best_dev, best_state, train_seconds = None, None, 0.0
    metrics = None
    if a.metrics:
        metrics = csv.writer(open(a.metrics, "w", newline=""))
        metrics.writerow(["epoch", "train_loss", "dev_wer", "dev_per", "dev_word_accuracy", "seconds",
                          "sequences_per_second"])
    for epoch in range(1, a.epochs + 1):
        model.train()
        t0 = time.perf_counter()
        loss_sum = tokens = 0.0
        for batch in make_batches(lengths, a.batch, shuffle_rng):
            src, src_len = pad([task.train_src[i] for i in batch])
            tgt = [task.train_tgt[i] for i in batch]
            n = sum(len(t) for t in tgt) + len(tgt)  # phones and each </s>
            opt.zero_grad(set_to_none=True)
            loss = model.loss(src, src_len, tgt, a.teacher_forcing, coin)
            loss.backward()
            if a.clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip)
            opt.step()
            loss_sum += n * loss.item()
            tokens += n
        secs = time.perf_counter() - t0
        train_seconds += secs
        t1 = time.perf_counter()
        dev = score_split(model, task.dev, 1, max_len, a.eval_limit)
        acc = 1 - dev.wer()
        print("epoch %d/%d  train_loss %.4f  dev_wer %.4f  dev_per %.4f  dev_word_accuracy %.4f  %.1fs train "
              "(%.0f words/s), %.1fs dev" % (epoch, a.epochs, loss_sum / tokens, dev.wer(), dev.per(), acc, secs,
                                             n_train / secs, time.perf_counter() - t1), flush=True)
        if metrics:
            metrics.writerow([epoch, loss_sum / tokens, dev.wer(), dev.per(), acc, secs, n_train / secs])
        if best_dev is None or acc > best_dev:  # CheckpointManager: strictly better replaces
            best_dev, best_state = acc, copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    t2 = time.perf_counter()
    greedy = score_split(model, task.test, 1, max_len, a.eval_limit)
    greedy_secs = time.perf_counter() - t2
    beam = score_split(model, task.test, a.beam, max_len, a.eval_limit)
    print("test: greedy WER %.4f PER %.4f; beam %d WER %.4f PER %.4f; %.1fs in all"
          % (greedy.wer(), greedy.per(), a.beam, beam.wer(), beam.per(), time.perf_counter() - t_start), flush=True)
    j = {"task": "cmudict_g2p", "cell": a.cell, "layers": a.layers, "bidirectional": int(a.bidirectional),
         "attention": int(a.attention), "hidden": a.hidden, "epochs": a.epochs, "seed": a.seed,
         "train_pairs": n_train, "test_words": greedy.words, "dev_word_accuracy": g6(best_dev),
         "test_wer_greedy": g6(greedy.wer()), "test_per_greedy": g6(greedy.per()), "beam": a.beam,
         "test_wer_beam": g6(beam.wer()), "test_per_beam": g6(beam.per()), "greedy_decode_seconds": g6(greedy_secs),
         "seconds_per_epoch": g6(train_seconds / a.epochs), "seconds": g6(time.perf_counter() - t_start),
         "words_per_second": g6(n_train * a.epochs / train_seconds), "impl": "pytorch"}
    print(json.dumps(j, separators=(",", ":")), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
