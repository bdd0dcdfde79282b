"""Dedup clusters at scale: the partitioned large-star / small-star phases against one scipy task.

    python -m tools.bench.clusters --docs 10000000 --partitions 64 --workers 2

Generates the candidate edges of a corpus of `--docs` documents in which `--dup-share` of them belong to
duplicate clusters (sizes heavy-tailed, 2 to 5,000; a star from each cluster's first document plus as
many random in-cluster edges, as LSH bands give), writes them as the `cc0` output the candidate phase
writes, then runs the `stars` rounds and `labels` exactly as a run does (`stages.dupclusters`), each
work item in a fresh process so that its peak memory is its own. The same edges then go through
scipy's connected_components in one process (what the clusters phase did before). Prints rounds, time,
peak memory per task and of the single task, and checks that both find the same clusters.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import tempfile
import time

import numpy as np
import pyarrow as pa

from mdfs import storage
from mdfs.globalwork import GlobalWork
from mdfs.layout import RunLayout
from mdfs.stage import StageContext
from mdfs.stages import dupclusters
from mdfs.stages.components import stable

STAGE = "dedup"
WRITERS = 64  # candidate items writing `cc0`, as in a run


def make_edges(docs: int, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Edges of duplicate clusters over gids (shard << 32 | row, 20,000 documents per shard)."""
    rng = np.random.default_rng(seed)
    sizes = np.minimum(rng.zipf(1.8, int(docs * share)) + 1, 5000)
    sizes = sizes[np.cumsum(sizes) <= docs * share]
    members = rng.permutation(docs)[:sizes.sum()].astype(np.int64)
    gids = ((members // 20000) << 32) | (members % 20000)
    cluster = np.repeat(np.arange(len(sizes)), sizes)
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    anchor = gids[starts][cluster]
    extra = gids[starts[cluster] + (rng.random(len(gids)) * sizes[cluster]).astype(np.int64)]
    keep = anchor != gids
    return np.r_[anchor[keep], extra], np.r_[gids[keep], gids]


def peak_mb() -> int:
    """This process's peak resident memory (VmHWM: unlike getrusage's ru_maxrss, it does not carry the
    parent's peak across the fork and exec that start a spawned worker)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) // 1024 for line in f if line.startswith("VmHWM:"))


def _idle(_) -> int:
    """Peak memory of a process that imported what an item imports and did nothing (the baseline)."""
    return peak_mb()


def _item(args) -> tuple[int, float, int]:
    """One work item in its own process: (changed, seconds, peak RSS in MB)."""
    root, phase_name, item, partitions, round_ = args
    layout = RunLayout(root)
    work = GlobalWork(layout, STAGE, phase_name, item, compression="zstd", segment=0, shards=1 << 20)
    ctx = StageContext(STAGE, phase_name)
    started = time.perf_counter()
    if round_ is None:
        dupclusters.labels(item, work, ctx)
    else:
        dupclusters.stars(partitions, item, work, ctx, round_)
    work.close()
    return int(ctx.counters.get("changed", 0)), time.perf_counter() - started, peak_mb()


def run_partitioned(root: str, partitions: int, workers: int) -> dict:
    layout = RunLayout(root)
    pool = mp.get_context("spawn").Pool(workers, maxtasksperchild=1)
    baseline = max(pool.map(_idle, range(workers)))
    changes, peaks, seconds, started = [], [], [], time.perf_counter()
    while not stable(changes):
        r = len(changes)
        out = pool.map(_item, [(root, f"stars-round{r}", i, partitions, r) for i in range(partitions)])
        changes.append(sum(c for c, _, _ in out))
        peaks += [p for _, _, p in out]
        seconds += [t for _, t, _ in out]
        print(f"  round {r}: {changes[-1]:,} edges rewired", flush=True)
    storage.write_json(layout.rounds_record(STAGE, "stars"), {"rounds": len(changes)})
    out = pool.map(_item, [(root, "labels", i, partitions, None) for i in range(partitions)])
    peaks += [p for _, _, p in out]
    seconds += [t for _, t, _ in out]
    pool.close()
    return {"rounds": len(changes), "changes": changes, "items": len(peaks),
            "wall_seconds": time.perf_counter() - started, "item_seconds": sum(seconds),
            "max_item_seconds": max(seconds), "peak_task_mb": max(peaks),
            "median_task_mb": float(np.median(peaks)), "idle_process_mb": baseline}


def _scipy(args) -> tuple[dict, float, int]:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    a, b = args
    started = time.perf_counter()
    nodes, inv = np.unique(np.concatenate([a, b]), return_inverse=True)
    ones = np.ones(len(a), dtype=np.int8)
    graph = coo_matrix((ones, (inv[:len(a)], inv[len(a):])), shape=(len(nodes),) * 2)
    _, label = connected_components(graph, directed=False)
    seconds = time.perf_counter() - started
    return (nodes, label), seconds, peak_mb()


def same_clusters(root: str, nodes: np.ndarray, label: np.ndarray) -> bool:
    """Both labellings split the nodes the same way."""
    t = pa.concat_tables(storage.read_parquet(f) for f in storage.list_files(
        RunLayout(root).global_dir(STAGE, "labels")) if f.endswith(".parquet"))
    order = np.argsort(t.column("gid").to_numpy())
    gid, star = t.column("gid").to_numpy()[order], t.column("label").to_numpy()[order]
    if not np.array_equal(gid, nodes):
        return False
    first_star = {}
    for s, component in zip(star.tolist(), label.tolist()):
        if first_star.setdefault(component, s) != s:
            return False
    return len(set(first_star.values())) == len(first_star)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=10_000_000)
    ap.add_argument("--dup-share", type=float, default=0.3)
    ap.add_argument("--partitions", type=int, default=64)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    a, b = make_edges(args.docs, args.dup_share, args.seed)
    print(f"{args.docs:,} documents, {len(np.unique(np.r_[a, b])):,} in clusters, {len(a):,} candidate edges")
    with tempfile.TemporaryDirectory() as root:
        layout = RunLayout(root)
        for w, (ca, cb) in enumerate(zip(np.array_split(a, WRITERS), np.array_split(b, WRITERS))):
            work = GlobalWork(layout, STAGE, "candidates", w, compression="zstd", segment=0)
            dupclusters.write_edges(work, ca, cb, args.partitions)
            work.close()
        part = run_partitioned(root, args.partitions, args.workers)
        with mp.get_context("spawn").Pool(1) as pool:
            (nodes, label), seconds, peak = pool.apply(_scipy, ((a, b),))
        part["same_clusters_as_scipy"] = same_clusters(root, nodes, label)
    result = {"docs": args.docs, "edges": len(a), "partitions": args.partitions, "workers": args.workers,
              "partitioned": part, "single_task": {"seconds": seconds, "peak_mb": peak}}
    # wall_seconds counts a fresh process per item (a run reuses its workers); item_seconds is the work
    print(json.dumps(result, indent=2))
    if args.json:
        storage.write_json(args.json, result)


if __name__ == "__main__":
    main()
