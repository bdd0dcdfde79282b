"""Near-duplicate removal with MinHash LSH, as phases over on-disk partitions (see `stages.dedup.Dedup`).

  map (per shard)        signatures → band keys, partitioned by (band, hash bucket)      → `bands`
                         one row of metadata per document (id, score, length, domain)     → `docs`
  candidates (per band partition)  documents sharing a band key → edges to the group's first;
                         without verification straight to `cc0` (both ways, by node)      → `edges` / `cc0`
  verify_gather (per shard, optional)  the shingle set of each edge's first document, sent
                         to the shard of the second                                        → `pairs`
  verify_check (per shard, optional)   exact Jaccard of each pair; pairs under the threshold dropped
                                                                                           → `cc0`
  stars, labels, members, clusters, summary  clusters and removals without a single-node step
                         (`stages.dupclusters`)

Memory: a band partition holds ~ documents × bands / partitions keys (16 bytes each); verification holds
the edges touching one shard; the cluster phases hold one partition of edges or of duplicate documents.
A document is named by `gid = shard << 32 | row`.
"""

from __future__ import annotations

import time
from functools import partial

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mdfs.globalwork import GlobalWork
from mdfs.hosts import hosts
from mdfs.stage import Phase, StageContext
from mdfs.stages import dupclusters
from mdfs.stages.components import unique_pairs
from mdfs.stages.dupclusters import ROW_BITS, ROW_MASK
from mdfs.stages.minhash import MinHasher, Shingles, band_keys, jaccard

SHARDS_PER_CLUSTER_PARTITION = 16  # ≈ 1 GB of input at the default 64 MB shards
MAP_BATCH_CHARS = 1_000_000  # signatures are computed this many characters at a time (bounded memory)


class NearPlan:
    """Everything the phases need to agree on, derived from the stage's parameters."""

    def __init__(self, near, exact: bool, buckets: int, bands: int, rows: int):
        self.near, self.exact = near, exact
        self.bands, self.rows = bands, rows
        self.key_bands = bands + (1 if exact else 0)  # the exact digest is one more band
        self.per_band = max(1, buckets // self.key_bands)
        self.partitions = self.key_bands * self.per_band

    def cluster_partitions(self, shards: int) -> int:
        """Partitions of the edges and of the cluster phases. Each item costs a few tens of milliseconds
        whatever its size, and a round writes partitions² files, so a small run takes few partitions;
        the edges grow with the input, hence one per `SHARDS_PER_CLUSTER_PARTITION` shards. The
        components, and so the output, do not depend on it."""
        if self.near.cluster_partitions is not None:
            return self.near.cluster_partitions
        return min(self.partitions, max(1, -(-shards // SHARDS_PER_CLUSTER_PARTITION)))

    def phases(self, shards: int, keep: list[tuple[str, str]]) -> list[Phase]:
        """The phases after the map, each with its function; `keep`: how a cluster's keeper is chosen."""
        verify = [Phase("verify_gather", shards, partial(verify_gather, self)),
                  Phase("verify_check", shards, partial(verify_check, self))] if self.near.verify else []
        return [Phase("candidates", self.partitions, partial(candidates, self)), *verify,
                *dupclusters.phases(self.cluster_partitions(shards), shards, self.exact, keep)]

    def hasher(self) -> MinHasher:
        n = self.near
        return MinHasher(n.num_perm, n.seed, n.ngram, n.hash, n.scheme)


# -- map ---------------------------------------------------------------------------------------------
def map_shard(plan: NearPlan, hasher: MinHasher, batch: pa.Table, work: GlobalWork, ctx: StageContext,
              score_column: str) -> None:
    n = batch.num_rows
    gid = (np.int64(work.item) << ROW_BITS) | np.arange(n, dtype=np.int64)
    text = batch.column("text")
    lengths = pc.utf8_length(text).to_numpy(zero_copy_only=False).astype(np.int64)
    keys, key_gids, bands, digests = [], [], [], []
    t0 = time.process_time()
    for lo, hi in _char_batches(lengths, MAP_BATCH_CHARS):
        shingles = Shingles(text.slice(lo, hi - lo), plan.near.ngram, plan.near.hash)
        sig, has = hasher.sketch(shingles)
        digests.append(shingles.digests())
        k = band_keys(sig[has], plan.bands, plan.rows)
        keys.append(k.ravel())
        key_gids.append(np.repeat(gid[lo:hi][has], plan.bands))
        bands.append(np.tile(np.arange(plan.bands), int(has.sum())))
        ctx.count("docs_without_shingles", int((~has).sum()))
    ctx.count("signature_cpu_seconds", time.process_time() - t0)
    ctx.count("signature_bytes", int(pc.sum(pc.binary_length(text)).as_py() or 0))
    xhash = np.concatenate(digests) if digests else np.empty(0, np.uint64)
    if plan.exact:
        keys.append(xhash)
        key_gids.append(gid)
        bands.append(np.full(n, plan.bands))
    key = np.concatenate(keys) if keys else np.empty(0, np.uint64)
    band = np.concatenate(bands) if bands else np.empty(0, np.int64)
    part = band * plan.per_band + (key % np.uint64(plan.per_band)).astype(np.int64)
    table = pa.table({"key": pa.array(key, pa.uint64()),
                      "gid": pa.array(np.concatenate(key_gids) if key_gids else [], pa.int64())})
    work.write_partitioned("bands", table, part, plan.partitions)
    work.write("docs", work.item, pa.table({
        "gid": pa.array(gid), "id": batch.column("id").cast(pa.string()),
        "score": _scores(batch, score_column),
        "length": pa.array(lengths), "xhash": pa.array(xhash, pa.uint64()),
        "source": _column(batch, "source"), "domain": _domains(batch)}))


def _char_batches(lengths: np.ndarray, limit: int):
    """Consecutive row ranges of about `limit` characters (at least one row each)."""
    lo, total = 0, 0
    for i, n in enumerate(lengths.tolist()):
        total += n
        if total >= limit:
            yield lo, i + 1
            lo, total = i + 1, 0
    if lo < len(lengths):
        yield lo, len(lengths)


def _scores(batch: pa.Table, column: str) -> pa.Array:
    if column in batch.column_names:
        return pc.fill_null(batch.column(column).cast(pa.float64()), -1.0).combine_chunks()
    return pa.array(np.zeros(batch.num_rows))


def _column(batch: pa.Table, name: str) -> pa.Array:
    if name in batch.column_names:
        return batch.column(name).cast(pa.string()).combine_chunks()
    return pa.nulls(batch.num_rows, pa.string())


def _domains(batch: pa.Table) -> pa.Array:
    """The `domain` column where the reader gave one, else the host of `url` (lower-case, no `www.`)."""
    host = hosts(_column(batch, "url"))
    return pc.coalesce(_column(batch, "domain"), host) if "domain" in batch.column_names else host


# -- candidates -----------------------------------------------------------------------------------------
def candidates(plan: NearPlan, item: int, work: GlobalWork, ctx: StageContext) -> None:
    """Documents with the same key in one band are candidates: link each to the group's smallest gid
    (a star has the same connected components as all pairs, with far fewer edges)."""
    t = work.read("bands", item)
    if t is None:
        return
    key, gid = t.column("key").to_numpy(), t.column("gid").to_numpy()
    order = np.lexsort((gid, key))
    key, gid = key[order], gid[order]
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    anchor = gid[np.flatnonzero(first)][np.cumsum(first) - 1]
    a, b = anchor[~first], gid[~first]
    ctx.count("candidate_pairs", len(a))
    if not len(a):
        return
    if plan.near.verify:  # to the shard of `a`, whose item gathers its shingles
        work.write_partitioned("edges", pa.table({"a": pa.array(a), "b": pa.array(b)}), a >> ROW_BITS,
                               work.shards)
    else:
        dupclusters.write_edges(work, a, b, plan.cluster_partitions(work.shards))


# -- verification --------------------------------------------------------------------------------------
def verify_gather(plan: NearPlan, item: int, work: GlobalWork, ctx: StageContext) -> None:
    t = work.read("edges", item)
    if t is None:
        return
    a, b = unique_pairs(t.column("a").to_numpy(), t.column("b").to_numpy())
    docs, index = np.unique(a, return_inverse=True)
    texts = work.read_docs(item, docs & ROW_MASK, ["text"]).column("text")
    sets = Shingles(texts, plan.near.ngram, "fast").sets()
    pairs = pa.table({"a": pa.array(a), "b": pa.array(b), "shingles_a": sets.take(pa.array(index))})
    work.write_partitioned("pairs", pairs, b >> ROW_BITS, work.shards)


def verify_check(plan: NearPlan, item: int, work: GlobalWork, ctx: StageContext) -> None:
    t = work.read("pairs", item)
    if t is None:
        return
    a, b = t.column("a").to_numpy(), t.column("b").to_numpy()
    docs, index = np.unique(b, return_inverse=True)
    texts = work.read_docs(item, docs & ROW_MASK, ["text"]).column("text")
    sets_b = Shingles(texts, plan.near.ngram, "fast").sets()
    sets_a = t.column("shingles_a").combine_chunks()
    va, oa = sets_a.values.to_numpy(), sets_a.offsets.to_numpy()
    vb, ob = sets_b.values.to_numpy(), sets_b.offsets.to_numpy()
    keep = np.zeros(len(a), dtype=bool)
    for i, j in enumerate(index.tolist()):
        keep[i] = jaccard(va[oa[i]:oa[i + 1]], vb[ob[j]:ob[j + 1]]) >= plan.near.threshold
    ctx.count("pairs_verified", int(keep.sum()))
    ctx.count("pairs_rejected", int((~keep).sum()))
    dupclusters.write_edges(work, a[keep], b[keep], plan.cluster_partitions(work.shards))
