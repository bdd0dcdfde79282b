"""Lines of documents as Arrow arrays, and cutting lines out of documents by index.

A global stage that edits rows (see `GlobalStage.apply_edits`) names lines by their index in
`text.split("\\n")`: the map sees the same stored text the next segment edits, so the indexes agree.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


@dataclass
class Lines:
    """Every line of a column of texts, flattened: `row` and `line` locate it, `text` is the line."""

    row: np.ndarray  # int64, index of the document in the batch
    line: np.ndarray  # int32, index of the line in its document
    text: pa.Array  # the line (without the newline)


def split_lines(texts: pa.Array | pa.ChunkedArray) -> Lines:
    """Flatten documents into lines with pyarrow kernels (no per-line Python)."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    parts = pc.split_pattern(pc.fill_null(texts, ""), "\n")
    flat = pc.list_flatten(parts)
    row = np.asarray(pc.list_parent_indices(parts).to_numpy(zero_copy_only=False), dtype=np.int64)
    offsets = np.asarray(parts.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)
    line = (np.arange(len(flat), dtype=np.int64) - offsets[row]).astype(np.int32) if len(flat) else \
        np.zeros(0, np.int32)
    return Lines(row, line, flat)


@dataclass
class CutResult:
    """Texts after the cuts, the cut lines per document (joined by newlines, null when none), and what was
    cut per row and per kind."""

    texts: pa.Array
    cut_text: pa.Array
    cut_lines: np.ndarray  # int64 per row
    cut_chars: np.ndarray  # int64 per row, newlines not counted
    kinds: Counter = field(default_factory=Counter)  # kind → lines cut, over all rows
    kind_chars: Counter = field(default_factory=Counter)  # kind → characters cut


def cut_lines(texts: pa.Array | pa.ChunkedArray, rows: np.ndarray, lines: np.ndarray,
              kinds: list[str]) -> CutResult:
    """Remove line `lines[i]` of document `rows[i]` (the first kind named for a line counts; indexes past a
    document's end are ignored), with pyarrow kernels: split, mask, join. A document without cuts comes
    back byte for byte; a null text stays null."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    n = len(texts)
    parts = pc.split_pattern(pc.fill_null(texts, ""), "\n")
    flat = pc.list_flatten(parts)
    offsets = np.asarray(parts.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)
    owner = np.asarray(pc.list_parent_indices(parts).to_numpy(zero_copy_only=False), dtype=np.int64)
    rows, lines = np.asarray(rows, dtype=np.int64), np.asarray(lines, dtype=np.int64)
    ok = (rows >= 0) & (rows < n)
    ok[ok] &= (lines[ok] >= 0) & (lines[ok] < offsets[rows[ok] + 1] - offsets[rows[ok]])
    pos, first = np.unique(offsets[rows[ok]] + lines[ok], return_index=True)
    cut = np.zeros(len(flat), bool)
    cut[pos] = True
    length = np.asarray(pc.utf8_length(flat).to_numpy(zero_copy_only=False), dtype=np.int64) \
        if len(flat) else np.zeros(0, np.int64)
    out = CutResult(texts, pa.nulls(n, pa.string()), np.bincount(owner[cut], minlength=n),
                    np.bincount(owner[cut], weights=length[cut], minlength=n).astype(np.int64))
    if not len(pos):
        return out
    named = np.asarray(kinds, dtype=object)[ok][first]
    for kind in set(named):
        sel = named == kind
        out.kinds[kind] += int(sel.sum())
        out.kind_chars[kind] += int(length[pos[sel]].sum())
    out.texts = _join(flat.filter(pa.array(~cut)), owner[~cut], n, texts)
    joined = _join(flat.filter(pa.array(cut)), owner[cut], n, texts)
    out.cut_text = pc.if_else(pa.array(out.cut_lines > 0), joined, pa.scalar(None, pa.string()))
    return out


def _join(lines: pa.Array, owner: np.ndarray, n: int, like: pa.Array) -> pa.Array:
    """Lines back into one text per row (rows without lines become ""; null where `like` is null)."""
    counts = np.bincount(owner, minlength=n)
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32), pa.int32())
    joined = pc.binary_join(pa.ListArray.from_arrays(offsets, lines), "\n")
    return pc.if_else(pc.is_null(like), pa.scalar(None, pa.string()), joined) if like.null_count else joined
