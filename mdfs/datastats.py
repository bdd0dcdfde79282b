"""Dataset statistics for any text corpus (`mdfs stats PATH`): documents, characters, estimated tokens,
characters per script, length percentiles, languages, top domains and score histograms.

Files are found and cut into shards by mdfs's own input planner and read by its readers (JSONL, Parquet,
text files); each shard is summarised on its own (a Ray task, or in this process with the serial engine)
and the summaries merge, so memory stays bounded whatever the corpus size.

Token counts are an estimate, not a tokenizer's count: CJK characters (Han, kana, Hangul) / 1.5 + other
non-space characters / 4, the rates of current BPE vocabularies with Chinese merges (Qwen, LLaMA-3, GLM:
1.3–1.6 Chinese characters and about 4 Latin characters per token).
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mdfs import storage
from mdfs.config import InputConfig
from mdfs.inputs import Shard, plan_shards
from mdfs.readers import PieceReader
from mdfs.report.scan import LENGTH_EDGES, SCORE_EDGES, Histogram, TopCounter, domains

log = logging.getLogger(__name__)

SCRIPTS = {
    "han": r"\p{Han}",
    "kana": r"[\p{Hiragana}\p{Katakana}]",
    "hangul": r"\p{Hangul}",
    "latin": r"\p{Latin}",
    "cyrillic": r"\p{Cyrillic}",
    "digit": r"\p{Nd}",
    "space": r"\s",
}
CJK_SCRIPTS = ("han", "kana", "hangul")
CJK_CHARS_PER_TOKEN, OTHER_CHARS_PER_TOKEN = 1.5, 4.0
TOKEN_ESTIMATE = (
    f"CJK characters / {CJK_CHARS_PER_TOKEN} + other non-space characters / {OTHER_CHARS_PER_TOKEN:g}"
)
# Exact bins below 1,000 characters, then 1% wide: percentiles within 1% without keeping every length.
PERCENTILE_EDGES = list(range(1000)) + [int(1000 * 1.01**k) for k in range(1, 1400)]
PERCENTILES = (1, 5, 10, 25, 50, 75, 90, 95, 99)
EXTRA_COLUMNS = ("lang", "domain", "url")


class CorpusStats:
    """Mergeable summary of documents. `add` takes a table with a `text` column and, when present,
    `lang`, `domain`, `url` and score columns (`*__score`)."""

    def __init__(self):
        self.docs = self.chars = self.bytes = self.unreadable = 0
        self.scripts = dict.fromkeys(SCRIPTS, 0)
        self.lengths = Histogram(PERCENTILE_EDGES)
        self.length_bins = Histogram(LENGTH_EDGES)
        self.langs, self.lang_chars, self.domains = TopCounter(1000), TopCounter(1000), TopCounter()
        self.scores: dict[str, Histogram] = {}

    def add(self, table: pa.Table | pa.RecordBatch) -> None:
        text = pc.fill_null(table.column("text"), "")
        lengths = pc.utf8_length(text)
        self.docs += table.num_rows
        self.chars += int(pc.sum(lengths).as_py() or 0)
        self.bytes += int(pc.sum(pc.binary_length(text)).as_py() or 0)
        for name, pattern in SCRIPTS.items():
            self.scripts[name] += int(pc.sum(pc.count_substring_regex(text, pattern)).as_py() or 0)
        self.lengths.add(lengths)
        self.length_bins.add(lengths)
        names = table.schema.names
        if "lang" in names:
            self.langs.add(table.column("lang"))
            self.lang_chars.add(table.column("lang"), lengths)
        dom = domains(table)
        if dom is not None:
            self.domains.add(dom)
        for col in names:
            if col.endswith("__score") and pa.types.is_floating(table.schema.field(col).type):
                self.scores.setdefault(col, Histogram(SCORE_EDGES)).add(table.column(col))

    def merge(self, other: CorpusStats) -> CorpusStats:
        for key in ("docs", "chars", "bytes", "unreadable"):
            setattr(self, key, getattr(self, key) + getattr(other, key))
        for k, v in other.scripts.items():
            self.scripts[k] += v
        self.lengths.merge(other.lengths)
        self.length_bins.merge(other.length_bins)
        self.langs.merge(other.langs)
        self.lang_chars.merge(other.lang_chars)
        self.domains.merge(other.domains)
        for col, h in other.scores.items():
            self.scores.setdefault(col, Histogram(SCORE_EDGES)).merge(h)
        return self

    def tokens(self) -> int:
        cjk = sum(self.scripts[s] for s in CJK_SCRIPTS)
        other = max(0, self.chars - cjk - self.scripts["space"])
        return round(cjk / CJK_CHARS_PER_TOKEN + other / OTHER_CHARS_PER_TOKEN)

    def percentiles(self) -> dict[str, int]:
        counts = self.lengths.counts
        if not counts.sum():
            return {}
        cum = np.cumsum(counts)
        out = {}
        for p in PERCENTILES:
            i = int(np.searchsorted(cum, p / 100 * cum[-1]))
            out[f"p{p}"] = int(self.lengths.edges[min(i, len(counts) - 1)])
        return out

    def to_json(self, top: int = 20) -> dict:
        other = self.chars - sum(self.scripts.values())
        return {
            "documents": self.docs,
            "characters": self.chars,
            "utf8_bytes": self.bytes,
            "unreadable_records": self.unreadable,
            "estimated_tokens": self.tokens(),
            "token_estimate": TOKEN_ESTIMATE,
            "mean_chars": round(self.chars / self.docs, 1) if self.docs else 0,
            "length_percentiles": self.percentiles(),
            "length_histogram": self.length_bins.to_json(),
            "scripts": {**self.scripts, "other": max(0, other)},
            "languages": [
                {"lang": k, "documents": n, "characters": self.lang_chars.counts.get(k, 0)}
                for k, n in self.langs.top(top)
            ],
            "domains": [{"domain": k, "documents": n} for k, n in self.domains.top(top)],
            "distinct_domains": len(self.domains.counts),
            "domains_approximate": self.domains.approximate,
            "scores": {col: h.to_json() for col, h in sorted(self.scores.items())},
        }


def shard_stats(cfg: InputConfig, shard: Shard) -> CorpusStats:
    """Summarise one input shard. Parquet row groups are read directly so that `lang`, `domain` and
    score columns come along; other formats go through mdfs's readers (unreadable records are counted)."""
    stats, reader = CorpusStats(), PieceReader(cfg)
    for piece in shard.pieces:
        if piece.kind == "parquet":
            fs, p = storage.resolve(piece.path)
            pf = pq.ParquetFile(p, filesystem=fs)
            names = pf.schema_arrow.names
            cols = [cfg.text_field] + [c for c in names if c in EXTRA_COLUMNS or c.endswith("__score")]
            for rg in range(piece.start, piece.end):
                t = pf.read_row_group(rg, columns=cols)
                if cfg.text_field != "text":
                    t = t.rename_columns(["text"] + cols[1:])
                if not pa.types.is_string(t.schema.field("text").type):  # an all-null (null-typed) column
                    t = t.set_column(0, "text", t.column("text").cast(pa.string()))
                stats.add(t.filter(pc.is_valid(t.column("text"))))
            continue
        for rb in reader.read(piece):
            stats.unreadable += len(rb.bad)
            t = rb.table()
            stats.add(t.filter(pc.is_valid(t.column("text"))))
    return stats


def compute_stats(
    paths: list[str],
    *,
    engine: str = "ray",
    text_field: str = "text",
    address: str | None = None,
    workers: int | None = None,
    shard_size_mb: float = 64.0,
) -> dict:
    """Statistics of the corpus at `paths` (files, folders, globs; local or s3://)."""
    cfg = InputConfig(paths=paths, text_field=text_field, shard_size_mb=shard_size_mb, id_field=None)
    started = time.perf_counter()
    shards, skipped = plan_shards(cfg)
    total = CorpusStats()
    if engine == "serial" or len(shards) == 1:
        for shard in shards:
            total.merge(shard_stats(cfg, shard))
    else:
        for part in _ray_map(cfg, shards, address, workers):
            total.merge(part)
    out = total.to_json()
    out.update(
        {
            "paths": paths,
            "input_bytes": sum(s.size for s in shards),
            "shards": len(shards),
            "skipped_files": skipped,
            "engine": "serial" if engine == "serial" or len(shards) == 1 else "ray",
            "seconds": round(time.perf_counter() - started, 2),
        }
    )
    return out


def _ray_map(cfg: InputConfig, shards: list[Shard], address: str | None, workers: int | None):
    from mdfs.engine import start_ray

    started = start_ray(address, workers)
    import ray

    try:
        task = ray.remote(num_cpus=1, max_retries=3)(shard_stats)
        pending = [task.remote(cfg, s) for s in shards]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])
    finally:
        if started:
            ray.shutdown()


def format_stats(s: dict) -> str:
    """A Markdown summary of `compute_stats`'s result."""
    lines = [
        f"# Dataset statistics: {', '.join(s['paths'])}",
        "",
        "| | |",
        "|---|---|",
        f"| documents | {s['documents']:,} |",
        f"| characters | {s['characters']:,} |",
        f"| UTF-8 bytes | {s['utf8_bytes']:,} |",
        f"| estimated tokens | {s['estimated_tokens']:,} ({s['token_estimate']}) |",
        f"| mean length | {s['mean_chars']:,} characters |",
        f"| unreadable records | {s['unreadable_records']:,} |",
        f"| input | {s['input_bytes'] / 1e6:,.1f} MB in {s['shards']} shards, {s['engine']}, "
        f"{s['seconds']} s |",
        "",
        "Length percentiles (characters): "
        + ", ".join(f"{k} {v:,}" for k, v in s["length_percentiles"].items()),
        "",
        "| script | characters | share |",
        "|---|---|---|",
    ]
    for name, n in s["scripts"].items():
        lines.append(f"| {name} | {n:,} | {n / max(1, s['characters']):.1%} |")
    if s["languages"]:
        lines += ["", "| language | documents | characters |", "|---|---|---|"]
        lines += [f"| {r['lang']} | {r['documents']:,} | {r['characters']:,} |" for r in s["languages"]]
    if s["domains"]:
        approx = " (approximate)" if s["domains_approximate"] else ""
        lines += [
            "",
            f"Top domains of {s['distinct_domains']:,}{approx}:",
            "",
            "| domain | documents |",
            "|---|---|",
        ]
        lines += [f"| {r['domain']} | {r['documents']:,} |" for r in s["domains"]]
    return "\n".join(lines) + "\n"
