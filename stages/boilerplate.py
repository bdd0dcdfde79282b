"""Cross-page boilerplate: cut the lines a site repeats on its pages (navigation, footers, share widgets).

One page cannot tell its template from its article; the site's other pages can. Like CCNet's paragraph
dedup, but per site: a line is template when it recurs on at least `min_pages` pages AND `min_share` of its
site's pages (a site is the `domain` column, else the host of `url`, else see `without_domain`), or on very
many pages of many sites corpus-wide. Each line counts once per page, so a line an article repeats
("是的。" in an interview) is not made frequent by that article, and exact copies of a page count as one
page (a site whose pages are all the same page has no template). Three guards keep article text that a
site happens to repeat (the same story at two addresses, section numbers, a short answer):

- prose: a line of at least `prose_chars` characters ending a sentence (。！？) is article text, never
  cut by the site rule; templates are short labels, links and copyright lines;
- copies: when several recurring prose lines sit on exactly the same pages, those pages are copies of one
  story, and every line on exactly those pages stays (removing copies is dedup's job);
- isolated: a recurring line whose previous and next lines both stay, one of them ending a sentence, sits
  inside running text, and stays; a number ("01", "3": a section heading or a counter) needs only both
  neighbours to stay, or running text beside it.

Lines on fewer than `min_share` but at least `block_share` of a site's pages (the template of one kind of
page: list pages, a column) are cut only inside a block: a neighbour on exactly the same pages, or strong
template lines on both sides. A short line many articles share ("谢谢！", "（完）") has article text
beside it.

Runs as a global stage: map (line hashes per page, partitioned by site) → `count` (pages per site and per
line, the site rule) → `corpus` (pages and sites per line, the corpus rule) → `edits` (which occurrences
to cut, with the guards). The next segment cuts those lines (`GlobalStage.apply_edits`); a page with too
little left goes to the rejects as `boilerplate_only`, its text whole. Figures: docs/boilerplate.md.
"""

from __future__ import annotations

import hashlib
import posixpath
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from mdfs.config import Strict
from mdfs.globalwork import GlobalWork
from mdfs.hosts import host
from mdfs.lineedits import cut_lines, split_lines
from mdfs.stage import REJECT, GlobalStage, Phase, StageContext, add_details, reject_where
from mdfs.stages.boilercuts import CORPUS, PAGE_SHIFT, SITE, as_numpy, choose_cuts

NO_SITE = 0  # site hash of documents without a site: only the corpus rule applies to them
PROSE_END = r"[。！？][”’」』）)\"']*$"
NUMERIC = r"^[0-9\p{P}\p{S}]+$"  # digits and punctuation only: a counter ("326") or a section number ("01")


class Params(Strict):
    buckets: int = Field(16, ge=1, le=65536, description="site partitions; bounds memory per task")
    min_pages: int = Field(2, ge=2,
                           description="site rule: a line on at least this many pages of its site...")
    min_share: float = Field(0.5, gt=0.0, le=1.0, description="...and on at least this share of them")
    block_share: float = Field(0.1, gt=0.0, le=1.0,
                               description="a line on fewer pages, down to this share, is "
                               "cut only within a block of lines on exactly the same pages")
    corpus_min_pages: int = Field(1000, ge=0,
                                  description="corpus rule: a line on this many pages... (0: off)")
    corpus_min_sites: int = Field(20, ge=1, description="...of at least this many sites")
    prose_chars: int = Field(40, ge=0, description="a sentence-final line this long is never cut by the site "
                             "rule (0: no such guard)")
    keep_isolated: bool = Field(True, description="keep a recurring line whose previous and next lines stay")
    copy_prose_lines: int = Field(3, ge=0,
                                  description="this many recurring prose lines on the same pages mark "
                                  "copies of one story: lines on exactly those pages are kept (0: off)")
    min_chars: int = Field(30, ge=0,
                           description="a page with fewer visible characters left after its cuts is "
                           "rejected (boilerplate_only)")
    without_domain: Literal["skip", "source", "directory"] = Field(
        "skip", description="documents with neither domain nor url: no site rule (skip), one site per source "
        "file, or one per source directory (site mirrors: a folder of HTML files per site)")
    cut_column: bool = Field(True, description="keep the cut lines of each page in `<stage>__cut` (audit)")


def _share(t: pa.Table) -> pa.Array:
    """pages / site_pages, per row."""
    return pc.divide(pc.cast(t.column("pages"), pa.float64()), pc.cast(t.column("site_pages"), pa.float64()))


def hash64(values: list[str]) -> np.ndarray:
    """A stable 64-bit hash per string (blake2b) as int64 (Arrow kernels are at home there), never 0 (0 marks
    'no site')."""
    out = np.fromiter((int.from_bytes(hashlib.blake2b(v.encode("utf-8"), digest_size=8).digest(), "little")
                       for v in values), dtype=np.uint64, count=len(values))
    out[out == 0] = 1
    return out.view(np.int64)


def line_keys(lines: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Normalised line (whitespace removed, a run of digits → 0, lower case: '关注数 6414' and '关注数 12'
    are one line) and whether it reads as prose-ending. Pure pyarrow kernels."""
    key = pc.utf8_lower(pc.replace_substring_regex(pc.replace_substring_regex(lines, r"\s+", ""), r"\d+",
                                                   "0"))
    return key, pc.match_substring_regex(key, PROSE_END)


def hash_keys(keys: pa.Array) -> np.ndarray:
    """64-bit hashes of normalised lines, hashing each distinct line once."""
    enc = pc.dictionary_encode(keys).combine_chunks() if isinstance(keys, pa.ChunkedArray) else \
        pc.dictionary_encode(keys)
    uniq = hash64(enc.dictionary.to_pylist())
    return uniq[np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.int64)] if len(uniq) else \
        np.zeros(len(keys), np.int64)


def site_names(batch: pa.Table, without_domain: str) -> list[str | None]:
    """The site of each document: `domain`, else the host of `url` (without www.), else by
    `without_domain`."""
    n = batch.num_rows

    def col(name):
        return batch.column(name).to_pylist() if name in batch.column_names else [None] * n

    out = []
    for dom, url, src in zip(col("domain"), col("url"), col("source")):
        site = dom or host(url)
        if site:
            out.append(site.lower().removeprefix("www."))
        elif src and without_domain == "source":
            out.append(f"file:{src}")
        elif src and without_domain == "directory":
            out.append(f"dir:{posixpath.dirname(src)}")
        else:
            out.append(None)
    return out


def page_lines(batch: pa.Table, without_domain: str, prose_chars: int) -> pa.Table:
    """One row per non-blank line of every page: site, line hash, row, line index, prose (a long sentence)
    sentence (ends like one) and numeric (digits and punctuation only)."""
    lines = split_lines(batch.column("text"))
    key, ends = line_keys(lines.text)
    prose = pc.and_(ends, pc.greater_equal(pc.utf8_length(key), prose_chars)) if prose_chars else \
        pa.array(np.zeros(len(key), bool))
    ends = pc.and_(ends, pc.greater_equal(pc.utf8_length(key), 4))
    numeric = pc.match_substring_regex(key, NUMERIC)
    keep = pc.greater(pc.utf8_length(key), 0)
    sites = site_names(batch, without_domain)
    site_hash = np.array([int(hash64([s])[0]) if s else NO_SITE for s in sites], dtype=np.int64)
    mask = np.asarray(keep.to_numpy(zero_copy_only=False), dtype=bool)
    rows = lines.row[mask]
    return pa.table({"site": pa.array(site_hash[rows] if len(rows) else np.zeros(0, np.int64), pa.int64()),
                     "hash": pa.array(hash_keys(key.filter(keep)), pa.int64()),
                     "row": pa.array(rows, pa.int64()), "line": pa.array(lines.line[mask], pa.int32()),
                     "prose": prose.filter(keep), "sentence": ends.filter(keep),
                     "numeric": numeric.filter(keep)})


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads page ids so that a sum of them names a set of pages."""
    x = x.astype(np.uint64)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def page_versions(page: np.ndarray, hsh: np.ndarray) -> np.ndarray:
    """Per line occurrence, a signature of its page's set of lines: exact copies of a page (the same lines,
    in any order, at two addresses) share it and count as one page."""
    order = np.lexsort((hsh, page))
    p, h = page[order], hsh[order]
    first = np.ones(len(p), bool)
    first[1:] = (p[1:] != p[:-1]) | (h[1:] != h[:-1])
    p, h = p[first], h[first]
    starts = np.flatnonzero(np.concatenate([[True], p[1:] != p[:-1]])) if len(p) else np.zeros(0, np.int64)
    with np.errstate(over="ignore"):
        sig = np.add.reduceat(_mix(h.view(np.uint64)), starts) if len(p) else np.zeros(0, np.uint64)
    return sig.view(np.int64)[np.searchsorted(p[starts], page)] if len(p) else np.zeros(0, np.int64)


def line_stats(occ: pa.Table) -> pa.Table:
    """Per (site, hash): pages it is on (each page once, and exact copies of a page as one page: a site
    whose pages are all the same page has no template), a signature of that set of pages, prose, and the
    number of (distinct) pages of its site. Documents without a site are left out."""
    occ = occ.filter(pc.not_equal(occ.column("site"), NO_SITE))
    d = occ.group_by(["site", "hash", "version"]).aggregate([("prose", "any")]) \
        .rename_columns(["site", "hash", "version", "prose"]) \
        .sort_by([("site", "ascending"), ("hash", "ascending")])
    site_pages = occ.group_by("site").aggregate([("version", "count_distinct")]) \
        .rename_columns(["site", "site_pages"])
    if not d.num_rows:
        return pa.table({"site": pa.array([], pa.int64()), "hash": pa.array([], pa.int64()),
                         "pages": pa.array([], pa.int64()), "sig": pa.array([], pa.int64()),
                         "prose": pa.array([], pa.bool_()), "site_pages": pa.array([], pa.int64())})
    site, hsh = (np.asarray(d.column(c).to_numpy(), dtype=np.int64) for c in ("site", "hash"))
    starts = np.flatnonzero(np.concatenate([[True], (site[1:] != site[:-1]) | (hsh[1:] != hsh[:-1])]))
    mixed = _mix(np.asarray(d.column("version").to_numpy(), dtype=np.int64))
    with np.errstate(over="ignore"):
        sig = np.add.reduceat(mixed, starts).view(np.int64)
    prose = np.maximum.reduceat(as_numpy(d.column("prose"), np.int8), starts)
    t = pa.table({"site": site[starts], "hash": hsh[starts], "pages": np.diff(np.append(starts, len(site))),
                  "sig": sig, "prose": prose.astype(bool)})
    return t.join(site_pages, "site").sort_by([("site", "ascending"), ("hash", "ascending")])


def site_rule(stats: pa.Table, min_pages: int, min_share: float, block_share: float, copy_prose_lines: int,
              ctx: StageContext | None = None) -> pa.Table:
    """The site template: lines (site, hash) on ≥ min_pages pages and ≥ block_share of their site's pages
    (`strong` when also ≥ min_share), less prose lines and less copies of one story: when
    `copy_prose_lines` recurring prose lines sit on exactly the same set of pages, those pages hold one
    story several times (dedup's business), and every line on exactly that set is kept."""
    low = min(min_share, block_share)
    t = stats.filter(pc.and_(pc.greater_equal(stats.column("pages"), min_pages),
                             pc.greater_equal(_share(stats), low)))
    t = t.append_column("strong", pc.greater_equal(_share(t), min_share))
    prose = t.filter(t.column("prose"))
    copies = prose.group_by(["site", "sig"]).aggregate([("hash", "count")])
    enough = pc.greater_equal(copies.column("hash_count"), copy_prose_lines)
    copies = copies.filter(enough) if copy_prose_lines else copies.slice(0, 0)
    mark = copies.select(["site", "sig"]).append_column("copy", pa.array(np.ones(copies.num_rows, bool)))
    t = t.join(mark, ["site", "sig"]).sort_by([("site", "ascending"), ("hash", "ascending")])
    copy = pc.fill_null(t.column("copy"), False)
    if ctx is not None:
        ctx.count("kept_prose_lines", int(pc.sum(pc.and_(t.column("prose"), pc.invert(copy))).as_py() or 0))
        ctx.count("kept_copy_lines", int(pc.sum(copy).as_py() or 0))
        ctx.count("copy_sets", copies.num_rows)
    return t.filter(pc.invert(pc.or_(t.column("prose"), copy))) \
        .select(["site", "hash", "pages", "site_pages", "sig", "strong"])


def line_counts(occ: pa.Table) -> pa.Table:
    """Pages per (hash, site): what the corpus rule adds up across partitions."""
    return occ.group_by(["hash", "site"]).aggregate([("version", "count_distinct")]) \
        .rename_columns(["hash", "site", "pages"])


def corpus_rule(counts: pa.Table, min_pages: int, min_sites: int) -> pa.Table:
    """Lines on ≥ min_pages pages of ≥ min_sites sites (documents without a site count as one site)."""
    t = counts.group_by("hash").aggregate([("pages", "sum"), ("site", "count_distinct")]) \
        .rename_columns(["hash", "pages", "sites"])
    keep = pc.and_(pc.greater_equal(t.column("pages"), min_pages),
                   pc.greater_equal(t.column("sites"), min_sites))
    return t.filter(keep).sort_by("hash")


class Boilerplate(GlobalStage):
    """The built-in `boilerplate` stage (see the module docstring)."""

    Params = Params

    def map_shard(self, batch: pa.Table, work: GlobalWork, ctx: StageContext) -> None:
        p = self.params
        occ = page_lines(batch, p.without_domain, p.prose_chars)
        page = pc.add(pa.array(np.full(occ.num_rows, work.item << PAGE_SHIFT, np.int64)), occ.column("row"))
        occ = occ.append_column("page", page).drop_columns(["row"])
        occ = occ.append_column("version", pa.array(page_versions(np.asarray(page.to_numpy(), dtype=np.int64),
                                                                  np.asarray(occ.column("hash").to_numpy(),
                                                                             dtype=np.int64)), pa.int64()))
        site = np.asarray(occ.column("site").to_numpy(), dtype=np.int64).view(np.uint64)
        by_page = np.asarray(page.to_numpy(), dtype=np.int64) % self.buckets
        # a site's pages share a partition; pages without a site spread by page (only the corpus rule)
        part = np.where(site == NO_SITE, by_page, (site % np.uint64(self.buckets)).astype(np.int64))
        ctx.count("lines_seen", occ.num_rows)
        work.write_partitioned("lines", occ, part, self.buckets)

    def phases(self, shards: int) -> list[Phase]:
        corpus = [Phase("corpus", self.buckets, self._corpus)] if self.params.corpus_min_pages else []
        return [Phase("count", self.buckets, self._count), *corpus, Phase("edits", self.buckets, self._edits)]

    def _count(self, item: int, work: GlobalWork, ctx: StageContext) -> None:
        p = self.params
        occ = work.read("lines", item, ["site", "hash", "version", "prose"])
        if occ is None:
            return
        template = site_rule(line_stats(occ), p.min_pages, p.min_share, p.block_share,
                             p.copy_prose_lines, ctx)
        ctx.count("sites", len(pc.unique(occ.column("site"))))
        ctx.count("template_lines", template.num_rows)
        work.write("template", item, template)
        if p.corpus_min_pages:
            counts = line_counts(occ)
            ids = as_numpy(counts.column("hash"), np.int64).view(np.uint64) % np.uint64(self.buckets)
            work.write_partitioned("counts", counts, ids.astype(np.int64), self.buckets)

    def _corpus(self, item: int, work: GlobalWork, ctx: StageContext) -> None:
        counts = work.read("counts", item)
        if counts is not None:
            frequent = corpus_rule(counts, self.params.corpus_min_pages, self.params.corpus_min_sites)
            ctx.count("frequent_lines", frequent.num_rows)
            work.write("frequent", item, frequent)

    def _edits(self, item: int, work: GlobalWork, ctx: StageContext) -> None:
        occ = work.read("lines", item)
        if occ is None:
            return
        template = work.read("template", item)
        if template is None:
            template = pa.table({"site": pa.array([], pa.int64()), "hash": pa.array([], pa.int64())})
        frequent = work.read_all("frequent", ["hash"]) if self.params.corpus_min_pages else None
        if frequent is None:
            frequent = pa.table({"hash": pa.array([], pa.int64())})
        edits = choose_cuts(occ, template, frequent, self.params.keep_isolated, ctx)
        ctx.count("edits", edits.num_rows)
        work.write_edits(edits)

    def apply_edits(self, batch: pa.Table, edits: pa.Table, ctx: StageContext) -> pa.Table:
        p = self.params
        rows = np.asarray(edits.column("row").to_numpy(), dtype=np.int64)
        if REJECT in batch.column_names and len(rows):  # rows another rule of this stage removes stay whole
            live = np.asarray(pc.is_null(batch.column(REJECT)).to_numpy(zero_copy_only=False), dtype=bool)
            edits = edits.filter(pa.array(live[rows]))
            rows = rows[live[rows]]
        lines, kinds = as_numpy(edits.column("line"), np.int64), edits.column("kind").to_pylist()
        res = cut_lines(batch.column("text"), rows, lines, kinds)
        left = np.asarray(pc.utf8_length(pc.replace_substring_regex(pc.fill_null(res.texts, ""), r"\s+", ""))
                          .to_numpy(zero_copy_only=False), dtype=np.int64)
        empty = (res.cut_lines > 0) & (left < p.min_chars)
        tried = res
        if empty.any():  # a rejected page keeps its whole text (nothing is lost): cut the others only
            keep = ~empty[rows]
            res = cut_lines(batch.column("text"), rows[keep], lines[keep],
                            [k for k, x in zip(kinds, keep) if x])
        for kind in (SITE, CORPUS):
            ctx.count(f"cut_lines_{kind}", res.kinds[kind])
            ctx.count(f"cut_chars_{kind}", res.kind_chars[kind])
        ctx.count("docs_edited", int((res.cut_lines > 0).sum()))
        batch = batch.set_column(batch.column_names.index("text"), "text", res.texts)
        cols = {"cut_lines": pa.array(res.cut_lines, pa.int32()),
                "cut_chars": pa.array(res.cut_chars, pa.int32())}
        if p.cut_column:
            cols["cut"] = res.cut_text
        for name, values in cols.items():
            batch = batch.append_column(f"{self.name}__{name}", values)
        if not empty.any():
            return batch
        sites = site_names(batch, p.without_domain)
        details = [f"{c} lines ({ch} characters) cut as template of {s or 'no site'}; {n} characters left "
                   f"< min_chars {p.min_chars}" if e else None
                   for e, c, ch, n, s in zip(empty, tried.cut_lines, tried.cut_chars, left, sites)]
        reasons = ["boilerplate_only" if e else None for e in empty]
        batch = reject_where(batch, [(pa.array(empty), "boilerplate_only")])
        return add_details(batch, details, reasons)
