"""The deterministic train / dev / test split of words that reel's data readers use (data/split.h).

    h = FNV-1a 64-bit of the word's UTF-8 bytes
        (offset basis 0xcbf29ce484222325, prime 0x100000001b3, arithmetic modulo 2**64)
    bucket = h % 100
    0-89 -> "train", 90-94 -> "dev", 95-99 -> "test"

The word is hashed exactly as given: no case folding or trimming. For CMUdict it is the base word,
without an alternate marker such as "(2)", so every pronunciation of a word is in the same split.

Import it (`from splits import split_of`) or run it: `python3 tools/splits.py WORD...` prints
"word<TAB>hash in hex<TAB>bucket<TAB>split" per word, the format tests/test_data_cmudict.cpp reads.
Standard library only.
"""

import sys

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
SPLITS = ("train", "dev", "test")


def _bytes(word):
    # str -> its UTF-8 bytes; surrogateescape gives back the bytes of a word that was decoded with
    # errors="surrogateescape" (tools/g2p_data.py does so for CMUdict headwords).
    if isinstance(word, str):
        return word.encode("utf-8", "surrogateescape")
    return bytes(word)


def fnv1a64(word):
    """FNV-1a 64-bit hash of word's bytes (a str is UTF-8 encoded)."""
    h = FNV_OFFSET
    for b in _bytes(word):
        h = ((h ^ b) * FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return h


def split_bucket(word):
    """fnv1a64(word) % 100."""
    return fnv1a64(word) % 100


def split_of(word):
    """"train" (bucket 0-89), "dev" (90-94) or "test" (95-99)."""
    bucket = split_bucket(word)
    if bucket < 90:
        return "train"
    return "dev" if bucket < 95 else "test"


def count_splits(words):
    """{"train": n, "dev": n, "test": n} over words (each occurrence counts)."""
    counts = dict.fromkeys(SPLITS, 0)
    for w in words:
        counts[split_of(w)] += 1
    return counts


def main(argv):
    for w in argv:
        print("%s\t%016x\t%d\t%s" % (w, fnv1a64(w), split_bucket(w), split_of(w)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
