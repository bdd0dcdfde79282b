"""Connected components of a graph too big for one task: alternating large-star and small-star rounds.

The edges live on disk as directed pairs `src → dst`, each undirected edge stored both ways, partitioned
by a hash of `src`: the item of partition p sees the whole neighbourhood Γ(u) of every node u it owns.
Each round rewires every neighbourhood towards its smallest node and writes the new edges partitioned
the same way (Kiveris et al., "Connected Components in MapReduce and Beyond", SoCC 2014):

- large-star: each node u links every neighbour larger than itself to m(u) = min(Γ(u) ∪ {u});
- small-star: each node u links itself and every neighbour smaller than itself to the smallest of them.

Neither step changes the components. When two rounds in a row (one of each kind) change nothing, every
component is a star around its smallest node, so a node's label is the smallest of itself and its
neighbours. Rounds: O(log² n) in theory, a handful in practice. Memory per item: its partition's edges.

These functions are pure (numpy in, numpy out); `stages.neardup` runs them as phases over partitions.
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: spreads gids (shard << 32 | row) evenly


def partition_of(nodes: np.ndarray, partitions: int) -> np.ndarray:
    """The partition that owns each node: a multiplicative hash of the gid, so that one shard's rows
    spread over every partition."""
    mixed = (np.asarray(nodes, dtype=np.int64).astype(np.uint64) * _GOLDEN) >> np.uint64(33)
    return (mixed % np.uint64(partitions)).astype(np.int64)


def both_ways(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Undirected edges as directed pairs in both directions, without self loops or repeats."""
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    keep = a != b
    return unique_pairs(np.concatenate([a[keep], b[keep]]), np.concatenate([b[keep], a[keep]]))


def unique_pairs(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (src, dst) pairs, sorted by src then dst."""
    order = np.lexsort((dst, src))
    src, dst = src[order], dst[order]
    keep = np.ones(len(src), dtype=bool)
    keep[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
    return src[keep], dst[keep]


def _neighbourhood_min(src: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per row, the minimum of `values` over the rows with the same `src` (rows sorted by src)."""
    starts = np.flatnonzero(np.r_[True, src[1:] != src[:-1]])
    mins = np.minimum.reduceat(values, starts)
    return np.repeat(mins, np.diff(np.r_[starts, len(src)]))


def large_star(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """One large-star step over the neighbourhoods given (pairs sorted by src, both directions present
    for the nodes owned). Returns the new undirected edges (v, m(u)) and how many differ from the old."""
    if not len(src):
        return src, dst, 0
    m = np.minimum(_neighbourhood_min(src, dst), src)  # m(u) = min(Γ(u) ∪ {u})
    larger = dst > src
    v, mu, u = dst[larger], m[larger], src[larger]
    return v, mu, int(np.count_nonzero(mu != u))


def small_star(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """One small-star step: N(u) = neighbours smaller than u; u and N(u) are linked to min(N(u)).
    Returns the new undirected edges and how many old edges were rewired."""
    smaller = dst < src
    u, v = src[smaller], dst[smaller]
    if not len(u):
        return u, v, 0
    m = _neighbourhood_min(u, v)
    relinked = v != m  # (v, u) becomes (v, m)
    owners = np.unique(u)  # (u, m) for every u with a smaller neighbour
    first = np.searchsorted(u, owners)
    return (np.concatenate([v[relinked], owners]), np.concatenate([m[relinked], m[first]]),
            int(np.count_nonzero(relinked)))


def star_labels(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """After convergence: each owned node and its component's label, the smallest of it and its
    neighbours (its star's centre)."""
    if not len(src):
        return src, dst
    starts = np.flatnonzero(np.r_[True, src[1:] != src[:-1]])
    nodes = src[starts]
    return nodes, np.minimum(nodes, np.minimum.reduceat(dst, starts))


def stable(changes: list[int]) -> bool:
    """Whether the rounds so far (changes per round) have converged: two rounds in a row, one of each
    kind, changed nothing, so the same edges pass both tests and every cluster is a star."""
    return len(changes) >= 2 and changes[-1] == 0 and changes[-2] == 0


def step_of(round_: int):
    return large_star if round_ % 2 == 0 else small_star


def components_in_memory(a: np.ndarray, b: np.ndarray, partitions: int = 4,
                         max_rounds: int = 200) -> dict[int, int]:
    """The same rounds run in one process over `partitions` in-memory partitions: the reference the
    tests hold the on-disk phases to, and a way to see the rounds a graph takes."""
    src, dst = both_ways(a, b)
    changes: list[int] = []
    while not stable(changes):
        if len(changes) == max_rounds:
            raise RuntimeError(f"no convergence in {max_rounds} rounds")
        outs, changed = [], 0
        for p in range(partitions):
            mine = partition_of(src, partitions) == p
            x, y, c = step_of(len(changes))(src[mine], dst[mine])
            outs.append((x, y))
            changed += c
        src, dst = both_ways(np.concatenate([o[0] for o in outs]), np.concatenate([o[1] for o in outs]))
        changes.append(changed)
    nodes, labels = star_labels(src, dst)
    return dict(zip(nodes.tolist(), labels.tolist()))
