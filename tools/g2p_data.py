"""CMUdict and the Debian word lists read exactly as reel's C++ readers read them (data/cmudict.h,
data/wordlist.h): the same line rules, filtering, lower-casing and de-duplication, and the same
train / dev / test split (tools/splits.py, data/split.h), so a PyTorch script trains and evaluates
on the identical words.

    import sys; sys.path.insert(0, "tools")
    import g2p_data
    d = g2p_data.read_cmudict()                       # Debian pocketsphinx-en-us
    train = d.pronunciations("train")                 # [(word, ["AH", "B", ...]), ...]
    words = g2p_data.read_language("de")              # wngerman, apostrophes dropped, deduped
    dev = g2p_data.words_in(words, "dev")
    symbols = g2p_data.code_points("Straße")          # ["S", "t", "r", "a", "ß", "e"]

Malformed input raises DataError (a ValueError) "path:line: what, expected ...", the message the C++
reader gives. `python3 tools/g2p_data.py` prints the counts per split of both tasks, and
`--check-cmudict PATH...` / `--check-wordlist PATH...` each file's counts or error; the C++ tests
(tests/test_data_cmudict.cpp, tests/test_data_wordlist.cpp) compare both with reel's. Standard
library only.
"""

import argparse
import gzip
import os
import re
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from splits import SPLITS, count_splits, split_of  # noqa: E402

CMUDICT_PATH = "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict"
LANGUAGE_FILES = {  # language -> (path, Debian package), as data/wordlist.cpp's language_files()
    "en": ("/usr/share/dict/american-english", "wamerican"),
    "fr": ("/usr/share/dict/french", "wfrench"),
    "de": ("/usr/share/dict/ngerman", "wngerman"),
    "es": ("/usr/share/dict/spanish", "wspanish"),
}
MAX_LINE = 1 << 20  # LineReader::kMaxLine: bytes, counting the line's '\n'


class DataError(ValueError):
    """A data file is missing or malformed; the message names the file and line."""


def _lines(path):
    """(line number, line without '\\n' and one trailing '\\r') of a plain or gzip file, as bytes."""
    if not os.path.exists(path):
        raise DataError("%s: no such file" % path)
    if not os.path.isfile(path):
        raise DataError("%s: expected a regular file" % path)
    try:
        with open(path, "rb") as f:
            magic = f.read(2)
    except OSError:
        raise DataError("%s: cannot open for reading" % path) from None
    opener = gzip.open if magic == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        n = 0
        while True:
            try:
                raw = f.readline(MAX_LINE + 1)  # bounded: a longer line is refused below
            except EOFError:  # as GzFile: the gzip stream ends before its end marker
                raise DataError("%s:%d: unexpected end of gzip stream (file truncated?)" % (path, n + 1)) from None
            except (OSError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
                raise DataError("%s:%d: read error: %s" % (path, n + 1, e)) from None
            if not raw:
                return
            n += 1
            if len(raw) > MAX_LINE:
                raise DataError("%s:%d: a line longer than %d bytes (the limit: a corrupt or non-text file?)"
                                % (path, n, MAX_LINE))
            if raw.endswith(b"\n"):
                raw = raw[:-1]
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            yield n, raw


def _fail(path, n, what):
    raise DataError("%s:%d: %s" % (path, n, what))


# ---- CMUdict ---------------------------------------------------------------------------------

_SEPARATORS = re.compile(rb"[ \t]+")
_PHONE = re.compile(rb"[A-Z0-9]+")
_DIGITS = b"0123456789"


def _text(b):
    return b.decode("utf-8", "surrogateescape")


def _base_word(word, path, n):
    if not word:
        _fail(path, n, "empty word (the line starts with a space or tab): expected WORD PH1 PH2 ...")
    if word.endswith(b")"):
        open_at = word.rfind(b"(")
        number = word[open_at + 1:-1] if open_at >= 0 else b""
        if open_at < 0 or not number or number[:1] == b"0" or not number.isdigit():
            _fail(path, n, "bad alternate marker in '%s': expected WORD(N) with N a positive integer, e.g. 'a(2)'"
                  % _text(word))
        if open_at == 0:
            _fail(path, n, "empty word before the alternate marker in '%s': expected WORD(N)" % _text(word))
        return word[:open_at]
    stem = word.rstrip(_DIGITS)
    if stem.endswith(b"("):
        _fail(path, n, "unclosed alternate marker in '%s': expected WORD(N), e.g. 'a(2)'" % _text(word))
    return word


def _phone(phone, strip_stress, path, n):
    if not _PHONE.fullmatch(phone):
        _fail(path, n, "bad phone '%s': expected upper-case letters and digits [A-Z0-9], e.g. 'AH' or 'AH0'"
              % _text(phone))
    if not strip_stress:
        return phone.decode("ascii")
    stripped = phone.rstrip(_DIGITS)
    if not stripped:
        _fail(path, n, "phone '%s' is only stress digits: expected a phone such as 'AH0'" % _text(phone))
    return stripped.decode("ascii")


class CmuDict:
    """Words in order of first appearance, each with its pronunciations (lists of phones) in file
    order; equal pronunciations of a word are kept once (duplicates counts the others)."""

    def __init__(self):
        self.entries = []  # [(word, [phones, ...]), ...]
        self._index = {}
        self.duplicates = 0

    def add(self, word, phones):
        """Adds a pronunciation; False (and a duplicate counted) if the word already has it."""
        i = self._index.get(word)
        if i is None:
            i = self._index[word] = len(self.entries)
            self.entries.append((word, []))
        prons = self.entries[i][1]
        if phones in prons:
            self.duplicates += 1
            return False
        prons.append(phones)
        return True

    def find(self, word):
        """The pronunciations of word, or None."""
        i = self._index.get(word)
        return None if i is None else self.entries[i][1]

    def num_words(self):
        return len(self.entries)

    def num_pronunciations(self):
        return sum(len(p) for _, p in self.entries)

    def split_entries(self, split):
        """[(word, [phones, ...])] of the words in split ("train", "dev" or "test")."""
        return [(w, p) for w, p in self.entries if split_of(w) == split]

    def pronunciations(self, split):
        """[(word, phones)] of every pronunciation of the words in split, entry by entry."""
        return [(w, ph) for w, prons in self.entries if split_of(w) == split for ph in prons]

    def word_counts(self):
        return count_splits(w for w, _ in self.entries)

    def pronunciation_counts(self):
        counts = dict.fromkeys(SPLITS, 0)
        for w, prons in self.entries:
            counts[split_of(w)] += len(prons)
        return counts

    def phone_set(self):
        """Sorted distinct phones."""
        return sorted({ph for _, prons in self.entries for p in prons for ph in p})


def read_cmudict(path=CMUDICT_PATH, strip_stress=False, lowercase=False):
    """Reads a CMUdict file (plain or gzip) by data/cmudict.h's rules; raises DataError naming the
    file and line on anything malformed. Words are str (UTF-8, surrogateescape for other bytes)."""
    d = CmuDict()
    for n, line in _lines(path):
        if line.startswith(b";;;") or not line.strip(b" \t"):
            continue
        fields = _SEPARATORS.split(line)
        if fields[-1] == b"":
            fields.pop()
        word = _base_word(fields[0], path, n)
        if lowercase:
            word = word.lower()  # bytes.lower(): ASCII only
        phones = []
        for f in fields[1:]:
            if f.startswith(b"#"):
                break
            phones.append(_phone(f, strip_stress, path, n))
        if not phones:
            _fail(path, n, "no phones after '%s': expected WORD PH1 PH2 ..." % _text(fields[0]))
        d.add(_text(word), phones)
    return d


# ---- word lists ------------------------------------------------------------------------------

def read_wordlist(path, drop_apostrophes=True, lowercase=False, dedupe=True):
    """Reads a one-word-per-line UTF-8 list (plain or gzip) by data/wordlist.h's rules: empty lines
    skipped; then words with ' or U+2019 dropped, ASCII lower-casing, first of equal words kept."""
    out, seen = [], set()
    for n, line in _lines(path):
        if not line:
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as e:
            _fail(path, n, "invalid UTF-8 at byte %d (0x%02x): expected well-formed UTF-8 text"
                  % (e.start, line[e.start]))
        for i, b in enumerate(line):
            if b <= 0x20 or b == 0x7F:
                _fail(path, n, "byte 0x%02x at %d (a space or control character): expected one word per line"
                      % (b, i))
        if drop_apostrophes and (b"'" in line or "\u2019".encode() in line):
            continue
        word = (line.lower() if lowercase else line).decode("utf-8")  # bytes.lower(): ASCII only
        if dedupe:
            if word in seen:
                continue
            seen.add(word)
        out.append(word)
    return out


def language_file(language):
    if language not in LANGUAGE_FILES:
        raise ValueError("no word list for language '%s': expected one of %s"
                         % (language, ", ".join(LANGUAGE_FILES)))
    return LANGUAGE_FILES[language][0]


def read_language(language, **options):
    """read_wordlist(language_file(language), **options)."""
    return read_wordlist(language_file(language), **options)


def words_in(words, split):
    """The words whose split_of is split, in order."""
    return [w for w in words if split_of(w) == split]


def code_points(word):
    """The code points of word as one-character strings (data/utf8.h's utf8_code_points)."""
    return list(word)


# ---- counts ----------------------------------------------------------------------------------

def _fmt(counts):
    return " ".join("%s=%d" % (s, counts[s]) for s in SPLITS)


def count_report(cmudict_path=CMUDICT_PATH, languages=tuple(LANGUAGE_FILES), strip_stress=False,
                 lowercase=False, drop_apostrophes=True, dedupe=True):
    """The lines __main__ prints (tests/test_data_cmudict.cpp builds the same from C++)."""
    lines = []
    if os.path.exists(cmudict_path):
        d = read_cmudict(cmudict_path, strip_stress=strip_stress, lowercase=lowercase)
        lines.append("cmudict words %s" % _fmt(d.word_counts()))
        lines.append("cmudict pronunciations %s" % _fmt(d.pronunciation_counts()))
    for lang in languages:
        path = language_file(lang)
        if os.path.exists(path):
            words = read_wordlist(path, drop_apostrophes=drop_apostrophes, lowercase=lowercase, dedupe=dedupe)
            lines.append("words %s %s" % (lang, _fmt(count_splits(words))))
    return lines


def main(argv=None):
    p = argparse.ArgumentParser(description="Counts per split of the G2P (CMUdict) and word-generation (word list) data.")
    p.add_argument("--cmudict", default=CMUDICT_PATH, help="CMUdict file (default: %(default)s)")
    p.add_argument("--strip-stress", action="store_true", help="remove stress digits from phones")
    p.add_argument("--lowercase", action="store_true", help="ASCII-lower-case words (both tasks)")
    p.add_argument("--keep-apostrophes", action="store_true", help="keep word-list words containing ' or U+2019")
    p.add_argument("--no-dedupe", action="store_true", help="keep repeated word-list words")
    p.add_argument("--check-cmudict", nargs="+", metavar="PATH",
                   help="read each CMUdict file instead and print its counts or its DataError")
    p.add_argument("--check-wordlist", nargs="+", metavar="PATH",
                   help="read each word list instead and print its count or its DataError")
    a = p.parse_args(argv)
    if a.check_cmudict or a.check_wordlist:
        # One line per file; exit status 1 if any is malformed (tests compare these with reel's).
        failed = False
        for path in a.check_cmudict or []:
            try:
                d = read_cmudict(path, strip_stress=a.strip_stress, lowercase=a.lowercase)
                print("%s: %d words, %d pronunciations" % (path, d.num_words(), d.num_pronunciations()))
            except DataError as e:
                print(e)
                failed = True
        for path in a.check_wordlist or []:
            try:
                words = read_wordlist(path, drop_apostrophes=not a.keep_apostrophes, lowercase=a.lowercase,
                                      dedupe=not a.no_dedupe)
                print("%s: %d words" % (path, len(words)))
            except DataError as e:
                print(e)
                failed = True
        return 1 if failed else 0
    for line in count_report(a.cmudict, strip_stress=a.strip_stress, lowercase=a.lowercase,
                             drop_apostrophes=not a.keep_apostrophes, dedupe=not a.no_dedupe):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
