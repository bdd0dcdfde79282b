"""Connected components by large-star / small-star rounds, held to scipy's connected_components."""

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from mdfs.stages.components import both_ways, components_in_memory, large_star, partition_of, small_star


def scipy_labels(a, b) -> dict[int, int]:
    nodes, inv = np.unique(np.concatenate([a, b]), return_inverse=True)
    graph = coo_matrix((np.ones(len(a)), (inv[:len(a)], inv[len(a):])), shape=(len(nodes),) * 2)
    _, comp = connected_components(graph, directed=False)
    smallest = {}
    for node, c in zip(nodes.tolist(), comp.tolist()):
        smallest[c] = min(smallest.get(c, node), node)
    return {node: smallest[c] for node, c in zip(nodes.tolist(), comp.tolist())}


def gids(rng, n):
    return (rng.integers(0, 50, n, dtype=np.int64) << 32) | rng.integers(0, 1 << 20, n, dtype=np.int64)


@pytest.mark.parametrize("seed", range(6))
def test_random_graphs_match_scipy(seed):
    rng = np.random.default_rng(seed)
    pool = np.unique(gids(rng, 3000))
    a, b = rng.choice(pool, 2500), rng.choice(pool, 2500)
    a, b = a[a != b], b[a != b]  # a self loop makes no duplicate (both_ways drops it)
    assert components_in_memory(a, b, partitions=1 + seed) == scipy_labels(a, b)


def test_long_chains_and_stars_in_reverse_order_converge():
    chain = np.arange(2000, dtype=np.int64)[::-1]  # a path 1999 - 1998 - … - 0: diameter 1999
    star = np.full(500, 10_000, dtype=np.int64)
    a = np.concatenate([chain[:-1], star])
    b = np.concatenate([chain[1:], np.arange(10_001, 10_501)])
    assert components_in_memory(a, b, partitions=8) == scipy_labels(a, b)


def test_a_step_reports_no_change_only_on_a_star_around_the_smallest_node():
    src, dst = both_ways(np.array([5, 5, 5]), np.array([7, 8, 9]))
    assert large_star(src, dst)[2] == 0 and small_star(src, dst)[2] == 0
    src, dst = both_ways(np.array([5, 7]), np.array([7, 8]))  # a path 5 - 7 - 8
    assert large_star(src, dst)[2] == 1


def test_partitions_spread_one_shards_rows():
    rows = (np.int64(3) << 32) | np.arange(10_000, dtype=np.int64)
    counts = np.bincount(partition_of(rows, 16), minlength=16)
    assert counts.min() > 500
