"""Repetition in the style of Gopher (Rae et al. 2021), on characters instead of words.

Chinese has no spaces, so the n-grams are character n-grams of the text without whitespace. For each
document: the share of the text taken by its most frequent n-gram (small n), the share of n-gram
positions whose n-gram occurs more than once (larger n), and the fraction of duplicated lines and
paragraphs by count and by characters. One sort per n-gram size over the whole batch, no Python loop:
each n-gram becomes an integer key (document index in the top bits, a hash of the n-gram below), so a
sorted array groups n-grams by document and equal n-grams into runs.
"""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, field_validator

from mdfs.config import Strict
from mdfs.stages.rules.chars import SPACE, CharView, ratio


class RepetitionRules(Strict):
    """Thresholds on repetition; null switches a rule off."""

    max_dup_line_frac: float | None = Field(0.50, ge=0, le=1, description="duplicate lines / lines")
    max_dup_line_char_frac: float | None = Field(0.30, ge=0, le=1, description="chars in duplicate lines")
    max_dup_para_frac: float | None = Field(0.50, ge=0, le=1, description="duplicate paragraphs / paragraphs")
    max_dup_para_char_frac: float | None = Field(0.30, ge=0, le=1,
                                                 description="chars in duplicate paragraphs")
    max_top_ngram_share: dict[int, float] = Field(
        default_factory=lambda: {2: 0.20, 3: 0.18, 4: 0.16},
        description="n → max share of characters covered by the most frequent character n-gram")
    max_dup_ngram_share: dict[int, float] = Field(
        default_factory=lambda: {6: 0.85, 10: 0.75},
        description="n → max share of n-gram positions whose n-gram occurs more than once")
    min_ngram_chars: int = Field(50, ge=0, description="documents shorter than this get n-gram scores of 0")

    @field_validator("max_top_ngram_share", "max_dup_ngram_share")
    @classmethod
    def _sizes(cls, value: dict[int, float]) -> dict[int, float]:
        for n, limit in value.items():
            if not 2 <= n <= 32 or not 0 <= limit <= 1:
                raise ValueError(f"n-gram size {n} must be in 2..32 and its share {limit} in 0..1")
        return value


CHUNK_DOCS = 63  # documents hashed and sorted together: 6 bits of owner (63 = none), 26 bits of hash


def ngram_shares(view: CharView, top_sizes: set[int], dup_sizes: set[int]) -> dict[str, np.ndarray]:
    """Per document: `top_<n>` (share of characters covered by the most frequent n-gram) for n in
    `top_sizes`, `dup_<n>` (share of n-gram positions whose n-gram occurs more than once) for n in
    `dup_sizes`, over the characters other than whitespace. Documents go in chunks of `CHUNK_DOCS`."""
    visible = (view.cls != SPACE) & view.kept()
    doc, x = view.doc[visible], view.cp[visible]
    n_docs = view.n_docs
    chars = np.bincount(doc, minlength=n_docs)
    out = {f"top_{n}": np.zeros(n_docs) for n in top_sizes} | {f"dup_{n}": np.zeros(n_docs)
                                                               for n in dup_sizes}
    cuts = np.searchsorted(doc, np.arange(0, n_docs + CHUNK_DOCS, CHUNK_DOCS))
    for c, (lo, hi) in enumerate(itertools.pairwise(cuts)):
        first = c * CHUNK_DOCS
        docs = min(CHUNK_DOCS, n_docs - first)
        if docs <= 0 or hi <= lo:
            continue
        part = _chunk_shares(x[lo:hi], doc[lo:hi] - first, chars[first:first + docs], top_sizes, dup_sizes)
        for key, values in part.items():
            out[key][first:first + docs] = values
    return out


def _chunk_shares(cp: np.ndarray, doc: np.ndarray, chars: np.ndarray, top_sizes: set[int],
                  dup_sizes: set[int]) -> dict[str, np.ndarray]:
    """`ngram_shares` for one chunk of documents (`doc` numbered from 0).

    The hash of the n-grams of size n is built from the one of size n-1 (h_n[i] = (h_{n-1}[i] + c[i+n-1])·A,
    multiplicative hashing: every character is multiplied in, so the high bits depend on all of them), so
    all sizes cost one add and one multiply per size and position, plus one sort per size asked for. Keys
    are 32-bit (document in the high bits, the hash's high bits below) unless a document is so long that
    26 bits of hash would make collisions matter (> 1/64 of the buckets); then 64-bit. Within a document
    of L n-grams, about L²/2^27 pairs collide: for 400 characters one document in 800 gets one spurious
    repeat, which moves its shares by 2n/L, far below any threshold."""
    n_docs = len(chars)
    doc_bits = max(1, n_docs.bit_length())  # owners 0..n_docs, n_docs owning the cross-document n-grams
    wide = chars.max() > 1 << (32 - doc_bits - 6)
    dtype, width = (np.uint64, 64) if wide else (np.uint32, 32)
    hash_bits = width - doc_bits
    x = cp.astype(dtype)
    owner = doc.astype(dtype) << dtype(hash_bits)
    mult = dtype(0x9E3779B97F4A7C15 if wide else 0x9E3779B1)  # Knuth's golden-ratio multipliers
    first_key = np.arange(n_docs + 1, dtype=dtype) << dtype(hash_bits)
    nobody = dtype(n_docs) << dtype(hash_bits)
    out: dict[str, np.ndarray] = {}
    h = x * mult
    for n in range(2, max(top_sizes | dup_sizes, default=1) + 1):
        m = len(x) - n + 1
        if m <= 0:
            break
        h = (h[:m] + x[n - 1:]) * mult
        if n not in top_sizes and n not in dup_sizes:
            continue
        # the n-1 n-grams that run from one document into the next belong to nobody (sorted last)
        keys = (h >> dtype(width - hash_bits)) | np.where(doc[:m] == doc[n - 1:], owner[:m], nobody)
        keys.sort()
        edges = np.searchsorted(keys, first_key)  # where each document's n-grams start, and nobody's
        bounds, ends = edges[:-1], edges[1:]
        total = ends - bounds
        new = np.empty(len(keys) + 1, bool)  # new[i]: keys[i] starts a run; new[-1] closes the last
        new[0] = new[-1] = True
        np.not_equal(keys[1:], keys[:-1], out=new[1:-1])
        if n in dup_sizes:
            single = new[:-1] & new[1:]
            counts = np.r_[0, np.cumsum(single, dtype=np.int64)]
            out[f"dup_{n}"] = ratio(total - (counts[ends] - counts[bounds]), total)
        if n in top_sizes:
            starts = np.flatnonzero(new[:edges[-1] + 1])
            runs = np.diff(starts)
            run_bounds = np.searchsorted(starts, bounds)
            top = np.zeros(n_docs, np.int64)
            has = total > 0
            top[has] = np.maximum.reduceat(runs, run_bounds[has])
            # a single occurrence covers n characters; an n-gram seen once is no repetition
            out[f"top_{n}"] = np.minimum(np.where(top > 1, ratio(top * n, chars), 0.0), 1.0)
    return out


def duplicate_fractions(pieces: pa.ChunkedArray | pa.Array, parents: np.ndarray,
                        n_docs: int) -> tuple[np.ndarray, np.ndarray]:
    """Per document: (duplicate pieces / pieces, characters in duplicates / characters), over the
    non-empty pieces (lines or paragraphs); every occurrence after the first is a duplicate."""
    pieces = pc.utf8_trim_whitespace(pieces)
    lengths = pc.utf8_length(pieces)
    nonempty = pc.greater(lengths, 0)
    t = pa.table({"doc": pa.array(parents, pa.int64()), "piece": pieces, "len": lengths}).filter(nonempty)
    docs = t.column("doc").to_numpy()
    count = np.bincount(docs, minlength=n_docs)
    chars = np.bincount(docs, weights=t.column("len").to_numpy(), minlength=n_docs)
    groups = t.group_by(["doc", "piece"], use_threads=False).aggregate([("len", "count"), ("len", "max")])
    g_doc = groups.column("doc").to_numpy()
    extra = groups.column("len_count").to_numpy() - 1
    dup = np.bincount(g_doc, weights=extra, minlength=n_docs)
    dup_chars = np.bincount(g_doc, weights=extra * groups.column("len_max").to_numpy(), minlength=n_docs)
    return ratio(dup, count), ratio(dup_chars, chars)
