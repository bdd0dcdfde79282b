"""Streaming summaries of Parquet columns with bounded memory: fixed-bin histograms, top-k counters and
uniform samples. Each summary merges with another of its kind, so per-file partials can be computed on
Ray workers and combined on the driver."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads

from mdfs import storage
from mdfs.hosts import hosts

LENGTH_EDGES = [0, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000]
SCORE_EDGES = [round(i / 20, 2) for i in range(20)]  # the last bin is [0.95, 1]


def _short(v: int) -> str:
    return f"{v // 1000}k" if v >= 1000 else str(v)


def length_label(i: int) -> str:
    lo, hi = LENGTH_EDGES[i], LENGTH_EDGES[i + 1] if i + 1 < len(LENGTH_EDGES) else None
    return f"{_short(lo)}–{_short(hi)}" if hi is not None else f"≥{_short(lo)}"


class Histogram:
    """Counts in fixed bins; the last bin is open-ended (values ≥ its left edge)."""

    def __init__(self, edges: list[float], counts: list[int] | None = None):
        self.edges = list(edges)
        self.counts = np.array(counts if counts is not None else [0] * len(edges), dtype=np.int64)

    def add(self, values: pa.Array | np.ndarray) -> None:
        v = np.asarray(
            pc.drop_null(values) if isinstance(values, pa.Array | pa.ChunkedArray) else values,
            dtype=np.float64,
        )
        if v.size:
            idx = np.clip(np.searchsorted(self.edges, v, side="right") - 1, 0, len(self.edges) - 1)
            self.counts += np.bincount(idx, minlength=len(self.edges))

    def merge(self, other: Histogram) -> Histogram:
        self.counts += other.counts
        return self

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    def to_json(self) -> dict:
        return {"edges": self.edges, "counts": self.counts.tolist()}


class TopCounter:
    """Counts of string values, memory-bounded: past 4×`keep` distinct values the smallest are pruned
    to `keep`, and the counts become lower bounds (`approximate`)."""

    def __init__(self, keep: int = 10_000):
        self.keep, self.counts, self.approximate = keep, {}, False

    def add(self, values: pa.Array | pa.ChunkedArray, weights: pa.Array | None = None) -> None:
        if weights is None:
            vc = pc.value_counts(values)
            pairs = zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist())
        else:
            t = pa.table({"v": values, "w": weights}).group_by("v").aggregate([("w", "sum")])
            pairs = zip(t.column("v").to_pylist(), t.column("w_sum").to_pylist())
        for value, n in pairs:
            if value is not None:
                self.counts[value] = self.counts.get(value, 0) + n
        if len(self.counts) > 4 * self.keep:
            self.counts = dict(sorted(self.counts.items(), key=lambda kv: -kv[1])[: self.keep])
            self.approximate = True

    def merge(self, other: TopCounter) -> TopCounter:
        for k, v in other.counts.items():
            self.counts[k] = self.counts.get(k, 0) + v
        self.approximate |= other.approximate
        return self

    def top(self, n: int) -> list[tuple[str, int]]:
        return sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


class Sampler:
    """A uniform sample of `k` rows per key without replacement (bottom-k of a random number per row),
    so it is the same whatever the batch boundaries, and memory holds k rows per key."""

    def __init__(self, k: int, seed: int = 0):
        self.k, self.rng, self.kept = k, np.random.default_rng(seed), {}

    def add(self, keys: list, rows: pa.Table) -> None:
        r = self.rng.random(rows.num_rows)
        by_key: dict = {}
        for i, key in enumerate(keys):
            by_key.setdefault(key, []).append(i)
        for key, idx in by_key.items():
            idx = np.array(idx)
            best = idx[np.argsort(r[idx])[: self.k]]
            merged = self.kept.get(key, []) + list(zip(r[best].tolist(), rows.take(best).to_pylist()))
            self.kept[key] = sorted(merged, key=lambda x: x[0])[: self.k]

    def rows(self, key) -> list[dict]:
        return [row for _, row in self.kept.get(key, [])]


def domains(batch: pa.RecordBatch | pa.Table) -> pa.Array | None:
    """The `domain` column where set, else the host of `url`; None when the batch has neither."""
    names = batch.schema.names
    from_url = hosts(batch.column("url")) if "url" in names else None
    if "domain" in names:
        dom = batch.column("domain")
        return pc.coalesce(dom, from_url) if from_url is not None else dom
    return from_url


def parquet_files(folder: str) -> list[str]:
    if not storage.exists(folder) and not storage.is_uri(folder):
        return []
    return sorted(f for f in storage.list_files(folder) if f.endswith(".parquet"))


def batches(files: list[str], wanted: list[str], batch_size: int = 4096) -> Iterator[pa.RecordBatch]:
    """Record batches of the `wanted` columns that exist, file by file (files may differ in columns)."""
    for f in files:
        fs, p = storage.resolve(f)
        ds = pads.dataset(p, filesystem=fs, format="parquet")
        cols = [c for c in dict.fromkeys(wanted) if c in ds.schema.names]
        yield from ds.to_batches(columns=cols, batch_size=batch_size)
