"""Character classes of a whole batch in one vectorised pass.

Every document-level ratio (Chinese, digit, Latin, symbol, punctuation) and every per-line count comes
from one array of code points and one lookup table, instead of one regex pass per class: the batch is
decoded to UTF-32 once, each code point is mapped to a small class number, and counts per document or
per line are a single `bincount`. No Python loop touches characters.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SPACE, HAN, DIGIT, LATIN, LETTER, PUNCT, SYMBOL, OTHER = range(8)
N_CLASSES = 8
CLASS_NAMES = ("space", "han", "digit", "latin", "letter", "punct", "symbol", "other")

# Ideographs: CJK Unified (with extension A), compatibility ideographs, extensions B–H (planes 2–3).
HAN_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x323AF))
LATIN_RANGES = ((0x41, 0x5A), (0x61, 0x7A), (0xC0, 0x24F), (0x1E00, 0x1EFF), (0x2C60, 0x2C7F),
                (0xA720, 0xA7FF), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))


@cache
def class_table() -> np.ndarray:
    """uint8 class of every code point (0..0x10FFFF). Built once per process (~50 ms)."""
    table = np.full(0x110000, OTHER, np.uint8)
    by_category = {"Z": SPACE, "L": LETTER, "N": OTHER, "P": PUNCT, "S": SYMBOL}
    for cp in range(0x40000):  # planes 0–3 hold everything we classify finely
        cat = unicodedata.category(chr(cp))
        table[cp] = DIGIT if cat == "Nd" else by_category.get(cat[0], OTHER)
    table[0xE000:0xF900] = SYMBOL  # private use: icon fonts, glyph junk
    table[0xF0000:0x110000] = SYMBOL
    table[0x1F000:0x1FB00] = SYMBOL  # emoji and pictographs
    table[0xFFFD] = SYMBOL  # the replacement character marks decoding damage
    for cp in "\t\n\v\f\r\x1c\x1d\x1e\x1f\x85":
        table[ord(cp)] = SPACE
    for lo, hi in LATIN_RANGES:
        mask = table[lo:hi + 1] == LETTER
        table[lo:hi + 1][mask] = LATIN
    for lo, hi in HAN_RANGES:
        table[lo:hi + 1] = HAN
    table[0x3007] = HAN  # 〇, the ideographic zero
    return table


def codepoints(texts: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """All texts of a column, concatenated, as one uint32 array of code points."""
    joined = "".join(t for t in texts.to_pylist() if t)
    return np.frombuffer(joined.encode("utf-32-le"), np.uint32)


@dataclass
class CharView:
    """The code points of a batch with their classes and owners (document, line).

    `line` numbers lines exactly as `pc.list_flatten(pc.split_pattern(text, "\\n"))` does, so per-line
    counts here line up with the Arrow line arrays used for line cleaning.
    """

    cp: np.ndarray      # uint32 code points
    cls: np.ndarray     # uint8 class per code point
    doc: np.ndarray     # int64 document index per code point
    line: np.ndarray    # int64 global line index per code point
    n_docs: int
    n_lines: int
    keep: np.ndarray | None = None  # bool per code point: still in the text (None: all)

    @classmethod
    def of(cls, texts: pa.Array | pa.ChunkedArray) -> CharView:
        texts = pc.fill_null(texts, "")
        lengths = pc.utf8_length(texts).to_numpy(zero_copy_only=False).astype(np.int64)
        cp = codepoints(texts)
        doc = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
        newline = cp == 10
        # A document of k newlines has k+1 lines, so the line of a character is its document index
        # plus the newlines before it in the whole stream.
        before = np.cumsum(newline, dtype=np.int64) - newline
        n_lines = len(lengths) + int(newline.sum())
        return cls(cp, class_table()[cp], doc, doc + before, len(lengths), n_lines)

    def counts(self, by: str) -> np.ndarray:
        """Matrix [owners × classes] of character counts, owners being documents or lines."""
        owner = self.doc if by == "doc" else self.line
        size = self.n_docs if by == "doc" else self.n_lines
        key = owner * N_CLASSES + self.cls
        if self.keep is not None:
            key = key[self.keep]
        return np.bincount(key, minlength=size * N_CLASSES).reshape(size, N_CLASSES)

    def subset(self, keep_line: np.ndarray) -> CharView:
        """The view restricted to the characters of the kept lines (after line cleaning): a mask, no copy."""
        return CharView(self.cp, self.cls, self.doc, self.line, self.n_docs, self.n_lines,
                        keep_line[self.line])

    def kept(self) -> np.ndarray:
        return np.ones(len(self.cp), bool) if self.keep is None else self.keep


def ratio(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """part / whole with 0 where whole is 0, as float64."""
    return np.divide(part, whole, out=np.zeros(len(part), np.float64), where=whole > 0)
