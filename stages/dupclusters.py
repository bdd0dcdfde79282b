"""Dedup clusters without a single-node step: the phases after the candidate edges (see `stages.neardup`).

  stars (per node partition, in rounds)  large-star / small-star rewiring (`stages.components`) until
                         every cluster is a star around its smallest gid                       → `cc<r>`
  labels (per node partition)   each document's cluster label, sent to its shard              → `labels`
  members (per shard)    each labelled document's metadata (id, score, length, …), sent to the
                         partition of its label, so a cluster arrives whole                    → `members`
  clusters (per label partition) the keep policy picks one document per cluster; the rest are
                         removals (exact_duplicate / near_duplicate); a summary row per item   → `summary`
  summary (one item)     the notes: largest clusters, removals by source and domain, examples

Every item holds one partition's edges or documents; only `summary` is one item, and it reads one small
row set per `clusters` item. The removals equal those of connected components in one process: the label
is the cluster's smallest gid, and within a cluster the keep policy, then id, then gid decide.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import partial

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mdfs.globalwork import GlobalWork
from mdfs.stage import Phase, StageContext
from mdfs.stages.components import both_ways, partition_of, stable, star_labels, step_of, unique_pairs

ROW_BITS = 32
ROW_MASK = (1 << ROW_BITS) - 1
TOP = 20  # sources and domains listed in the stats
EXAMPLES = 5
LARGEST = 10
EDGES = "cc0"  # where candidates (or verification) write the edges, both ways, partitioned by node


def phases(partitions: int, shards: int, exact: bool, keep: list[tuple[str, str]]) -> list[Phase]:
    return [Phase("stars", partitions, partial(stars, partitions), stable=stable),
            Phase("labels", partitions, labels), Phase("members", shards, partial(members, partitions)),
            Phase("clusters", partitions, partial(clusters, exact, keep)), Phase("summary", 1, summary)]


def write_edges(work: GlobalWork, a: np.ndarray, b: np.ndarray, partitions: int, output: str = EDGES) -> None:
    """Undirected edges as directed pairs both ways, each in the partition of its source node."""
    src, dst = both_ways(a, b)
    if len(src):
        work.write_partitioned(output, pa.table({"src": pa.array(src), "dst": pa.array(dst)}),
                               partition_of(src, partitions), partitions)


def stars(partitions: int, item: int, work: GlobalWork, ctx: StageContext, round_: int) -> None:
    t = work.read(f"cc{round_}", item)
    if t is None:
        return
    src, dst = unique_pairs(t.column("src").to_numpy(), t.column("dst").to_numpy())
    a, b, changed = step_of(round_)(src, dst)
    ctx.count("changed", changed)
    write_edges(work, a, b, partitions, f"cc{round_ + 1}")


def labels(item: int, work: GlobalWork, ctx: StageContext) -> None:
    t = work.read(f"cc{work.rounds('stars')}", item)
    if t is None:
        return
    nodes, label = star_labels(*unique_pairs(t.column("src").to_numpy(), t.column("dst").to_numpy()))
    work.write_partitioned("labels", pa.table({"gid": pa.array(nodes), "label": pa.array(label)}),
                           nodes >> ROW_BITS, work.shards)


def members(partitions: int, item: int, work: GlobalWork, ctx: StageContext) -> None:
    t = work.read("labels", item)
    if t is None:
        return
    gid = t.column("gid").to_numpy()
    docs = work.read("docs", item).take(pa.array(gid & ROW_MASK))  # docs rows are in row order
    docs = docs.append_column("label", t.column("label"))
    owner = partition_of(t.column("label").to_numpy(), partitions)
    work.write_partitioned("members", docs, owner, partitions)


def clusters(exact: bool, keep: list[tuple[str, str]], item: int, work: GlobalWork,
             ctx: StageContext) -> None:
    """One document kept per cluster, by the keep policy, then id, then gid (never shard order)."""
    meta = work.read("members", item)
    if meta is None:
        return
    sort = [("label", "ascending"), *keep, ("id", "ascending"), ("gid", "ascending")]
    meta = meta.take(pc.sort_indices(meta, sort_keys=sort))
    lab = meta.column("label").to_numpy()
    first = np.r_[True, lab[1:] != lab[:-1]]
    keeper = np.flatnonzero(first)[np.cumsum(first) - 1]  # row of each document's kept document
    ids = meta.column("id").to_numpy(zero_copy_only=False)
    xhash = meta.column("xhash").to_numpy()
    same = (xhash == xhash[keeper]) if exact else np.zeros(len(lab), dtype=bool)
    gone = ~first
    reasons = np.where(same, "exact_duplicate", "near_duplicate")[gone]
    gid = meta.column("gid").to_numpy()[gone]
    work.write_removals(pa.table({
        "shard": pa.array((gid >> ROW_BITS).astype(np.int32)), "row": pa.array(gid & ROW_MASK),
        "reason": pa.array(reasons, pa.string()),
        "detail": pa.array(np.char.add("kept=", ids[keeper][gone].astype(str)), pa.string())}))
    sizes = np.diff(np.r_[np.flatnonzero(first), len(first)])
    _count(ctx, sizes, gone, reasons)
    work.write("summary", 0, pa.table({"item": [item], "summary": [json.dumps(
        _summary(work, meta, first, sizes, reasons, gone), ensure_ascii=False)]}))


def _count(ctx: StageContext, sizes: np.ndarray, gone: np.ndarray, reasons: np.ndarray) -> None:
    ctx.count("clusters", len(sizes))
    ctx.count("removed", int(gone.sum()))
    ctx.count("removed_exact", int((reasons == "exact_duplicate").sum()))
    ctx.count("removed_near", int((reasons == "near_duplicate").sum()))
    for size, count in Counter(sizes.tolist()).items():
        ctx.count(f"cluster_size_{size if size < 10 else '10+'}", count)


def _summary(work: GlobalWork, meta: pa.Table, first: np.ndarray, sizes: np.ndarray, reasons: np.ndarray,
             gone: np.ndarray) -> dict:
    """What the `summary` item needs from this item's clusters, in the global order (label, then place
    in the cluster): the largest sizes, the removals per source and domain with where each value first
    occurs, and example clusters (the largest, and the first pair)."""
    starts = np.flatnonzero(first)
    label = meta.column("label").to_numpy()
    order = np.arange(len(first)) - starts[np.cumsum(first) - 1]  # place of each row inside its cluster
    out: dict = {"largest": sorted(sizes.tolist(), reverse=True)[:LARGEST]}
    for col in ("source", "domain"):
        values = meta.column(col).to_numpy(zero_copy_only=False)[gone]
        where = list(zip(label[gone].tolist(), order[gone].tolist()))
        seen: dict = {}
        for v, w in zip(("(none)" if v is None else v for v in values.tolist()), where):
            count, at = seen.get(v, (0, w))
            seen[v] = (count + 1, at)
        out[col] = [[v, c, list(at)] for v, (c, at) in seen.items()]
    picks = list(np.argsort(-sizes, kind="stable")[:EXAMPLES - 1])
    pair = np.flatnonzero(sizes == 2)
    candidates = [(int(c), False) for c in picks] + ([(int(pair[0]), True)] if pair.size else [])
    reason_of = np.full(len(first), "kept", dtype=object)
    reason_of[gone] = reasons
    gids, ids = meta.column("gid").to_numpy(), meta.column("id").to_pylist()
    rows = {c: list(range(starts[c], starts[c] + min(sizes[c], 5))) for c, _ in candidates}
    texts = _snippets(work, gids[[r for c in rows for r in rows[c]]])
    out["examples"] = [{"size": int(sizes[c]), "label": int(label[starts[c]]), "pair": is_pair,
                        "members": [{"id": ids[r], "as": str(reason_of[r]), "text": texts[gids[r]]}
                                    for r in rows[c]]} for c, is_pair in candidates]
    return out


def summary(item: int, work: GlobalWork, ctx: StageContext) -> None:
    """The stage's notes, merged from every `clusters` item's summary."""
    t = work.read_all("summary")
    parts = [json.loads(s) for s in t.column("summary").to_pylist()] if t is not None else []
    if not parts:
        ctx.count("clusters", 0)
        return
    ctx.note("largest_clusters", sorted((s for p in parts for s in p["largest"]), reverse=True)[:LARGEST])
    for col in ("source", "domain"):
        total: dict = {}
        for p in parts:
            for value, count, at in p[col]:
                c, first = total.get(value, (0, at))
                total[value] = (c + count, min(first, at))
        top = sorted(total.items(), key=lambda kv: (-kv[1][0], kv[1][1]))[:TOP]
        ctx.note(f"removed_by_{col}", {v: c for v, (c, _) in top})
    examples = [e for p in parts for e in p["examples"]]
    largest = sorted((e for e in examples if not e["pair"]),
                     key=lambda e: (-e["size"], e["label"]))[:EXAMPLES - 1]
    pairs = sorted((e for e in examples if e["pair"]), key=lambda e: e["label"])
    chosen = largest + [p for p in pairs[:1] if all(p["label"] != e["label"] for e in largest)]
    ctx.note("examples", [{"size": e["size"], "members": e["members"]} for e in chosen])


def _snippets(work: GlobalWork, gids: np.ndarray, chars: int = 80) -> dict[int, str]:
    """The beginning of each document's text, reading each shard once."""
    out = {}
    for shard in np.unique(gids >> ROW_BITS).tolist():
        mine = np.unique(gids[(gids >> ROW_BITS) == shard])
        texts = work.read_docs(shard, mine & ROW_MASK, ["text"]).column("text").to_pylist()
        out.update({int(g): t[:chars] + ("…" if len(t) > chars else "") for g, t in zip(mine, texts)})
    return out
