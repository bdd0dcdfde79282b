"""Which occurrences of a site's recurring lines the boilerplate stage cuts: the neighbour guards.

A line's counts (stages/boilerplate.py) say it is template; its neighbours on each page say whether this
occurrence sits in a block of template or inside running text. Vectorised over all occurrences of a
bucket, sorted by page and line, so a neighbour is the row before or after on the same page.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mdfs.stage import StageContext

SITE, CORPUS = "site", "corpus"  # kinds of cut
PAGE_SHIFT = 40  # page id = shard << 40 | row


def as_numpy(values, dtype) -> np.ndarray:
    """An Arrow array (or column) as numpy."""
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=dtype)


def choose_cuts(occ: pa.Table, template: pa.Table, frequent: pa.Table, keep_isolated: bool,
                ctx: StageContext | None = None) -> pa.Table:
    """Which occurrences to cut: `occ` (site, hash, page, line) → rows (shard, row, line, kind).

    - corpus-frequent lines: always;
    - strong template lines (≥ min_share of the site's pages): unless isolated, i.e. both neighbours (the
      page's previous and next non-blank lines) stay and one of them ends like a sentence: the line sits
      inside running text. A label between unique headlines ("新闻", a picture count in a list) is not
      isolated in that sense, and goes. A number only needs both neighbours to stay, or running text on
      one side;
    - other template lines (≥ block_share): only inside a block, i.e. a neighbour is on exactly the same
      pages or both neighbours are strong template lines — a template of some of the site's pages (list
      pages, a column) repeats as a unit, while a short line many articles share ("谢谢！", "（完）") has
      article text on at least one side."""
    occ = occ.sort_by([("page", "ascending"), ("line", "ascending")])
    n = occ.num_rows
    corpus = np.asarray(pc.is_in(occ.column("hash"), value_set=frequent.column("hash")).to_numpy(
        zero_copy_only=False), dtype=bool) if frequent.num_rows else np.zeros(n, bool)
    marked = template.select(["site", "hash", "sig", "strong"]).append_column(
        "t", pa.array(np.ones(template.num_rows, bool)))
    flags = occ.select(["site", "hash"]).append_column("i", pa.array(np.arange(n, dtype=np.int64))) \
        .join(marked, ["site", "hash"]).sort_by("i")
    site = np.asarray(flags.column("t").fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
    strong = site & as_numpy(flags.column("strong").fill_null(False), bool)
    sig = np.asarray(flags.column("sig").fill_null(0).to_numpy(), dtype=np.int64)
    page = np.asarray(occ.column("page").to_numpy(), dtype=np.int64)
    prev_same = np.zeros(n, bool)  # the previous line is on the same page
    prev_same[1:] = page[1:] == page[:-1]
    next_same = np.zeros(n, bool)
    next_same[:-1] = prev_same[1:]
    block = np.zeros(n, bool)  # a neighbour is a template line on exactly the same set of pages...
    both = np.zeros(n, bool)  # ...or both neighbours are template lines
    if n > 1:
        same = site[1:] & site[:-1] & (sig[1:] == sig[:-1]) & prev_same[1:]
        block[1:] |= same
        block[:-1] |= same
    if n > 2:
        hard = strong | corpus
        both[1:-1] = prev_same[1:-1] & next_same[1:-1] & hard[:-2] & hard[2:]
    weak = site & ~strong & ~corpus
    cand = corpus | strong | (weak & (block | both))
    isolated = np.zeros(n, bool)
    if keep_isolated and n > 2:
        isolated = strong & ~corpus & _inside_text(occ, cand, prev_same, next_same)
    cut = cand & ~isolated
    if ctx is not None:
        ctx.count("kept_isolated", int(isolated.sum()))
        ctx.count("kept_outside_blocks", int((weak & ~block & ~both).sum()))
    kinds = np.where(corpus, CORPUS, SITE)[cut]
    page = page[cut]
    return pa.table({"shard": pa.array(page >> PAGE_SHIFT, pa.int32()),
                     "row": pa.array(page & ((1 << PAGE_SHIFT) - 1), pa.int64()),
                     "line": occ.column("line").filter(pa.array(cut)), "kind": pa.array(kinds, pa.string())})


def _inside_text(occ: pa.Table, cand: np.ndarray, prev_same: np.ndarray, next_same: np.ndarray) -> np.ndarray:
    """Occurrences whose neighbours both stay, one of them running text; for a number, both neighbours
    staying or running text beside it is enough."""
    n = occ.num_rows
    sentence = as_numpy(pc.or_(occ.column("sentence"), occ.column("prose")), bool)
    numeric = as_numpy(occ.column("numeric"), bool)
    kept_sentence = ~cand & sentence
    alone = np.zeros(n, bool)  # both neighbours stay
    alone[1:-1] = prev_same[1:-1] & next_same[1:-1] & ~cand[:-2] & ~cand[2:]
    in_text = np.zeros(n, bool)  # ...and one of them is running text
    in_text[1:-1] = alone[1:-1] & (kept_sentence[:-2] | kept_sentence[2:])
    beside = np.zeros(n, bool)  # a neighbour that stays is running text
    beside[1:] |= prev_same[1:] & kept_sentence[:-1]
    beside[:-1] |= next_same[:-1] & kept_sentence[1:]
    # '01' and '326' are one line after normalisation: a number is a section number when alone or
    # beside running text, a counter inside a widget
    return in_text | (numeric & (alone | beside))
