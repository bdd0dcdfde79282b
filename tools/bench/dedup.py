"""Near-duplicate removal: signature speed, LSH accuracy, whole-dedup time and memory; side by side with
datasketch's MinHash + MinHashLSH.

    .venv/bin/python -m tools.bench.dedup [--sizes 100000 1000000] [--json out/bench/dedup.json]

Corpus: sentences of the shared Chinese Wikipedia paragraphs (CMRC 2018, DRCD converted to Simplified with
OpenCC) recombined into synthetic documents of 5–40 sentences; 30% of the documents are injected copies
of another one: 15% of them reformatted only (exact duplicates after normalisation), the rest edited to a
target Jaccard similarity drawn uniformly from [0.2, 1] by replacing characters or sentences. The true
Jaccard of every (original, copy) pair is then computed exactly on the shingle sets, so accuracy is
measured against it: recall = share of pairs with J ≥ 0.8 that end in one cluster; false merges = share
of pairs with J < 0.5 that do. No network; the corpus is written to --workdir as Parquet.

Measured:
1. signatures, MB of UTF-8 text per CPU-second: mdfs `fast` and `sha1` hashes vs datasketch.MinHash;
2. the whole dedup (`mdfs.run`, serial engine, stage `dedup` with the default near-duplicate parameters:
   read → keys → LSH phases → removal → write) per corpus size, in a child process whose peak RSS is its
   process tree's (the serial engine starts no other process);
3. datasketch MinHash + MinHashLSH (same shingles, bands and rows, seed) on the same 100k documents in a
   child process, with union-find and the same keep policy: time, memory, and agreement of the removed sets.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tools.bench import peak_rss_mb
from mdfs.goldtext import shared_corpora

ROOT = Path(__file__).resolve().parents[2]
SHARED = shared_corpora()
NGRAM = 5
ROWS_PER_FILE = 50_000
SIGNATURE_BAR_MB_S = 30.0


# -- corpus ----------------------------------------------------------------------------------------------
def load_sentences(shared: Path = SHARED) -> list[str]:
    """Sentences (≥ 8 characters) of the shared wiki-zh paragraphs, all in Simplified characters."""
    import opencc

    t2s = opencc.OpenCC("t2s")
    out = []
    for name in ("cmrc2018_paragraphs.zh-Hans.jsonl", "drcd_paragraphs.zh-Hant-TW.jsonl"):
        with open(shared / "wiki-zh" / name, encoding="utf-8") as f:
            for line in f:
                text = t2s.convert(json.loads(line)["text"])
                out += [s for s in re.findall(r"[^。！？；]+[。！？；]?", text) if len(s) >= 8]
    return out


class _Base:
    """Original documents as sentence indices (small), rebuilt to text when needed."""

    def __init__(self, rng: np.random.Generator, n: int, sentences: int):
        self.k = rng.integers(5, 41, n)
        self.off = np.concatenate([[0], np.cumsum(self.k)])
        self.idx = rng.integers(0, sentences, int(self.off[-1]))

    def sentences(self, b: int) -> np.ndarray:
        return self.idx[self.off[b]:self.off[b + 1]]


def generate(n_docs: int, sentences: list[str], seed: int = 0, dup_fraction: float = 0.3,
             chunk: int = ROWS_PER_FILE) -> Iterator[tuple[pa.Table, pa.Table]]:
    """Yield (documents, pairs) chunk by chunk: documents `id, text, url`; pairs `original, copy, kind,
    jaccard` for the copies in the chunk (their originals may be in any chunk)."""
    from mdfs.stages.minhash import Shingles, jaccard

    rng = np.random.default_rng(seed)
    n_copy = int(n_docs * dup_fraction)
    n_base = n_docs - n_copy
    base = _Base(rng, n_base, len(sentences))
    pool = np.frombuffer("".join(sentences[:2000]).encode("utf-32-le"), dtype=np.uint32)  # replacement chars
    role = rng.permutation(n_docs)  # position → index: < n_base an original, else a copy
    base_pos = np.empty(n_base, dtype=np.int64)
    base_pos[role[role < n_base]] = np.flatnonzero(role < n_base)
    copy_of = rng.integers(0, n_base, n_copy)
    kind = rng.choice(np.array(["format", "chars", "sentences"]), n_copy, p=[0.15, 0.40, 0.45])
    target = rng.uniform(0.2, 1.0, n_copy)
    domain = np.minimum(rng.zipf(1.5, n_docs), 5000)

    def text_of(b: int) -> str:
        return "".join(sentences[i] for i in base.sentences(b))

    for lo in range(0, n_docs, chunk):
        hi = min(n_docs, lo + chunk)
        ids, texts, urls, pairs = [], [], [], []
        for pos in range(lo, hi):
            r = int(role[pos])
            if r < n_base:
                text = text_of(r)
            else:
                c = r - n_base
                b, j = int(copy_of[c]), float(target[c])
                text = _copy(rng, kind[c], j, base.sentences(b), sentences, pool)
                pairs.append((f"d{base_pos[b]:07d}", f"d{pos:07d}", str(kind[c]), b))
            ids.append(f"d{pos:07d}")
            texts.append(text)
            urls.append(f"https://site{domain[pos]}.example.cn/{pos}.html")
        sa = Shingles(pa.array([text_of(p[3]) for p in pairs], pa.string()), NGRAM).sets()
        sb = Shingles(pa.array([texts[int(p[1][1:]) - lo] for p in pairs], pa.string()), NGRAM).sets()
        va, oa = sa.values.to_numpy(), sa.offsets.to_numpy()
        vb, ob = sb.values.to_numpy(), sb.offsets.to_numpy()
        jac = [jaccard(va[oa[i]:oa[i + 1]], vb[ob[i]:ob[i + 1]]) for i in range(len(pairs))]
        yield (pa.table({"id": ids, "text": texts, "url": urls}),
               pa.table({"original": [p[0] for p in pairs], "copy": [p[1] for p in pairs],
                         "kind": [p[2] for p in pairs], "jaccard": pa.array(jac, pa.float64())}))


def _copy(rng: np.random.Generator, kind: str, j: float, sent: np.ndarray, sentences: list[str],
          pool: np.ndarray) -> str:
    if kind == "format":  # a repost with other line breaks, spaces and punctuation: same normalised text
        parts = [sentences[i] for i in sent]
        return "\n".join(" " + p.replace("，", ", ").replace("。", ". ") for p in parts)
    if kind == "sentences":  # a fraction f of sentences replaced: J ≈ (1 - f) / (1 + f)
        f = (1 - j) / (1 + j)
        sent = sent.copy()
        hit = rng.random(len(sent)) < f
        sent[hit] = rng.integers(0, len(sentences), int(hit.sum()))
        return "".join(sentences[i] for i in sent)
    # characters replaced at rate e, some deleted: a shingle survives with (1 - e)^n, J ≈ s / (2 - s)
    s = 2 * j / (1 + j)
    e = 1 - s ** (1 / NGRAM)
    cps = np.frombuffer("".join(sentences[i] for i in sent).encode("utf-32-le"), dtype=np.uint32).copy()
    hit = rng.random(len(cps)) < e
    cps[hit] = pool[rng.integers(0, len(pool), int(hit.sum()))]
    cps = cps[~(hit & (rng.random(len(cps)) < 0.3))]
    return cps.astype("<u4").tobytes().decode("utf-32-le")


def make_corpus(n_docs: int, sentences: list[str], seed: int = 0, dup_fraction: float = 0.3):
    """The whole (small) corpus at once: (documents, pairs)."""
    parts = list(generate(n_docs, sentences, seed, dup_fraction))
    return pa.concat_tables([p[0] for p in parts]), pa.concat_tables([p[1] for p in parts])


def write_corpus(folder: Path, n_docs: int, sentences: list[str], seed: int = 0) -> pa.Table:
    """Write the corpus as Parquet files; returns the pairs."""
    folder.mkdir(parents=True, exist_ok=True)
    pairs = []
    for i, (docs, p) in enumerate(generate(n_docs, sentences, seed)):
        pq.write_table(docs, folder / f"docs-{i:04d}.parquet", compression="zstd", row_group_size=10_000)
        pairs.append(p)
    table = pa.concat_tables(pairs)
    pq.write_table(table, folder.parent / f"{folder.name}.pairs.parquet")
    return table


# -- accuracy ------------------------------------------------------------------------------------------
BINS = [0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.01]


def merged_pairs(pairs: pa.Table, kept_by: dict[str, str]) -> np.ndarray:
    """For each injected pair: did the two documents end in one cluster?"""
    orig, copy = pairs.column("original").to_pylist(), pairs.column("copy").to_pylist()
    return np.array([kept_by.get(a, a) == kept_by.get(b, b) for a, b in zip(orig, copy)])


def agreement(pairs: pa.Table, ours: dict[str, str], theirs: dict[str, str], bands: int, rows: int) -> dict:
    """How often two runs take the same decision on a pair, measured and as expected if their hash
    functions were independent draws (each merges a pair of similarity J with probability S(J))."""
    from mdfs.stages.minhash import candidate_probability

    a, b = merged_pairs(pairs, ours), merged_pairs(pairs, theirs)
    p = candidate_probability(pairs.column("jaccard").to_numpy(), bands, rows)
    return {"removed_set_jaccard": round(len(set(ours) & set(theirs)) / max(1, len(set(ours) | set(theirs))),
                                         4),
            "pair_decisions_equal": round(float((a == b).mean()), 4),
            "pair_decisions_equal_expected_if_independent": round(float(1 - (2 * p * (1 - p)).mean()), 4)}


def accuracy(pairs: pa.Table, kept_by: dict[str, str], bands: int, rows: int) -> dict:
    """Recall and false merges over the injected pairs, given removed id → kept id."""
    from mdfs.stages.minhash import candidate_probability

    orig, copy = pairs.column("original").to_pylist(), pairs.column("copy").to_pylist()
    jac = pairs.column("jaccard").to_numpy()
    merged = merged_pairs(pairs, kept_by)
    family = {b: a for a, b in zip(orig, copy)}  # a copy belongs to its original's family
    wrong = sum(1 for r, k in kept_by.items() if family.get(r, r) != family.get(k, k))
    curve = []
    for lo, hi in itertools.pairwise(BINS):
        sel = (jac >= lo) & (jac < hi)
        mid = min((lo + min(hi, 1.0)) / 2, 1.0)
        curve.append({"jaccard": f"[{lo:.1f}, {min(hi, 1.0):.1f}{']' if hi > 1 else ')'}",
                      "pairs": int(sel.sum()),
                      "merged": round(float(merged[sel].mean()), 4) if sel.any() else None,
                      "s_curve_mid": round(float(candidate_probability(mid, bands, rows)), 4)})
    hi, lo = jac >= 0.8, jac < 0.5
    return {"pairs": len(jac), "recall_j_ge_0.8": round(float(merged[hi].mean()), 4),
            "pairs_j_ge_0.8": int(hi.sum()),
            "false_merge_j_lt_0.5": round(float(merged[lo].mean()), 4), "pairs_j_lt_0.5": int(lo.sum()),
            "removed_outside_family": wrong, "curve": curve}


# -- children: one measured process each ------------------------------------------------------------------
def child_mdfs(input_dir: str, output: str, near: dict) -> dict:
    import mdfs
    from mdfs.config import OutputConfig, validate

    out = {"path": output, **({"report": False} if "report" in OutputConfig.model_fields else {})}
    cfg = validate({"input": {"paths": [input_dir], "format": "parquet"}, "output": out,
                    "engine": {"kind": "serial"},
                    "stages": [{"name": "dedup",
                                "with": {"buckets": 64, "near": {"enabled": True, **near}}}]})
    t0 = time.perf_counter()
    s = mdfs.run(cfg, progress=False)
    seconds = time.perf_counter() - t0
    return {"seconds": round(seconds, 2), "peak_rss_mb": peak_rss_mb(), "docs_in": s.docs_in,
            "docs_out": s.docs_out, "counters": s.stages["dedup"].counters}


def union_find_keepers(n: int, pairs, rank) -> dict[int, int]:
    """The reference clustering a datasketch user writes: union-find over candidate pairs (i, j) of n
    documents; in each cluster the member with the smallest `rank(i)` is kept. {removed: kept}."""
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j in pairs:
        a, b = find(i), find(j)
        parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    keeper = {}
    for members in groups.values():
        best = min(members, key=rank)
        keeper.update({i: best for i in members if i != best})
    return keeper


def child_datasketch(input_dir: str, near: dict) -> dict:
    """What a user writes with datasketch: per-document MinHash, MinHashLSH insert and query, union-find."""
    from datasketch import MinHash, MinHashLSH

    from mdfs.stages.minhash import normalise

    files = sorted(Path(input_dir).glob("*.parquet"))
    table = pa.concat_tables([pq.read_table(f, columns=["id", "text"]) for f in files])
    ids, texts = table.column("id").to_pylist(), table.column("text").to_pylist()
    lengths = [len(t) for t in texts]
    t0 = time.perf_counter()
    c0 = time.process_time()
    norm = normalise(texts)
    n, perms = near["ngram"], near["num_perm"]
    proto = MinHash(num_perm=perms, seed=near["seed"])
    sigs = []
    for t in norm:
        shingles = {t[i:i + n] for i in range(len(t) - n + 1)} if len(t) >= n else ({t} if t else set())
        m = MinHash(num_perm=perms, seed=near["seed"], permutations=proto.permutations, scheme=proto.scheme)
        m.update_batch([s.encode("utf-8") for s in shingles])
        sigs.append(m)
    sig_cpu = time.process_time() - c0
    lsh = MinHashLSH(num_perm=perms, params=(near["bands"], near["rows"]))
    with lsh.insertion_session() as session:
        for i, m in enumerate(sigs):
            if norm[i]:
                session.insert(i, m)
    pairs = ((i, j) for i, m in enumerate(sigs) if norm[i] for j in lsh.query(m))
    keeper = union_find_keepers(len(ids), pairs, lambda i: (-lengths[i], ids[i]))  # longest, smallest id
    kept_by = {ids[i]: ids[k] for i, k in keeper.items()}
    seconds = time.perf_counter() - t0
    return {"seconds": round(seconds, 2), "signature_cpu_seconds": round(sig_cpu, 2),
            "peak_rss_mb": peak_rss_mb(), "kept_by": kept_by}


def _child(args: list[str], timeout: float = 7200) -> dict:
    proc = subprocess.run([sys.executable, "-m", "tools.bench.dedup", "--child", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"child failed: {proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _kept_by(run_dir: Path) -> dict[str, str]:
    t = pa.concat_tables([pq.read_table(f, columns=["id", "detail"])
                          for f in (run_dir / "rejects" / "dedup").glob("*.parquet")])
    return {i: d[len("kept="):] for i, d in zip(t.column("id").to_pylist(), t.column("detail").to_pylist())}


# -- signature speed -----------------------------------------------------------------------------------
def signature_speed(texts: list[str], near: dict) -> dict:
    """MB of UTF-8 text per CPU-second (one core) for each way of computing the same signatures."""
    from datasketch import MinHash

    from mdfs.stages.minhash import MinHasher, normalise

    out = {}
    for hash_, n_docs in (("fast", len(texts)), ("sha1", min(len(texts), 5000))):
        hasher = MinHasher(near["num_perm"], near["seed"], near["ngram"], hash_)
        hasher.signatures(pa.array(texts[:10]))  # build the normalisation tables outside the timing
        part = texts[:n_docs]
        mb = sum(len(t.encode()) for t in part) / 1e6
        c0 = time.process_time()
        for i in range(0, len(part), 2000):
            hasher.signatures(pa.array(part[i:i + 2000], pa.string()))
        out[f"mdfs_{hash_}"] = round(mb / (time.process_time() - c0), 2)
    part = texts[:2000]
    mb = sum(len(t.encode()) for t in part) / 1e6
    n = near["ngram"]
    c0 = time.process_time()
    for t in normalise(part):
        m = MinHash(num_perm=near["num_perm"], seed=near["seed"])
        m.update_batch([t[i:i + n].encode("utf-8") for i in range(len(t) - n + 1)])
    out["datasketch"] = round(mb / (time.process_time() - c0), 2)
    out["ratio_fast"] = round(out["mdfs_fast"] / out["datasketch"], 1)
    out["ratio_sha1"] = round(out["mdfs_sha1"] / out["datasketch"], 1)
    return out


# -- main ----------------------------------------------------------------------------------------------
def default_near() -> dict:
    from mdfs.stages.dedup import NearParams

    p = NearParams(enabled=True)
    bands, rows = p.lsh()
    return {"ngram": p.ngram, "num_perm": p.num_perm, "threshold": p.threshold, "seed": p.seed,
            "bands": bands, "rows": rows}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--compare", type=int, default=100_000, help="corpus size run with datasketch too")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/mdfs-bench-dedup"))
    ap.add_argument("--json", type=Path, default=ROOT / "out" / "bench" / "dedup.json")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        result = child_mdfs(rest[0], rest[1], json.loads(rest[2])) if kind == "mdfs" else \
            child_datasketch(rest[0], json.loads(rest[1]))
        print(json.dumps(result))
        return

    near = default_near()
    sentences = load_sentences()
    results: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                 "load_avg_at_start": os.getloadavg()}, "near": near, "sizes": {}}
    for size in sorted(set(args.sizes)):
        folder = args.workdir / f"corpus-{size}"
        pairs_path = args.workdir / f"corpus-{size}.pairs.parquet"
        t0 = time.perf_counter()
        if pairs_path.exists():
            pairs = pq.read_table(pairs_path)
        else:
            shutil.rmtree(folder, ignore_errors=True)
            pairs = write_corpus(folder, size, sentences)
        n_docs = sum(pq.read_metadata(f).num_rows for f in folder.glob("*.parquet"))
        print(f"corpus {size:,}: {n_docs:,} documents, {len(pairs):,} injected pairs "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)
        if size == min(args.sizes):
            texts = pq.read_table(min(folder.glob("*.parquet")), columns=["text"]).column("text").to_pylist()
            results["signatures_mb_per_s"] = signature_speed(texts[:20_000], near)
            print("signatures MB/s per core:", results["signatures_mb_per_s"], flush=True)
        out = args.workdir / f"run-{size}"
        shutil.rmtree(out, ignore_errors=True)
        run = _child(["mdfs", str(folder), str(out),
                      json.dumps({k: near[k] for k in ("ngram", "num_perm", "threshold", "seed")})])
        kept_by = _kept_by(out)
        run["bytes"] = sum(f.stat().st_size for f in folder.glob("*.parquet"))
        run["text_mb"] = round(run["counters"]["signature_bytes"] / 1e6, 1)
        run["us_per_doc"] = round(run["seconds"] / run["docs_in"] * 1e6, 1)
        run["accuracy"] = accuracy(pairs, kept_by, near["bands"], near["rows"])
        run["removed"] = len(kept_by)
        print(f"mdfs {size:,}: {run['seconds']} s, {run['us_per_doc']} µs/doc, peak {run['peak_rss_mb']} MB, "
              f"recall(J≥0.8) {run['accuracy']['recall_j_ge_0.8']}, "
              f"false merges(J<0.5) {run['accuracy']['false_merge_j_lt_0.5']}", flush=True)
        if size == args.compare:
            ds = _child(["datasketch", str(folder), json.dumps(near)])
            ds_kept = ds.pop("kept_by")
            ds["removed"] = len(ds_kept)
            ds["accuracy"] = accuracy(pairs, ds_kept, near["bands"], near["rows"])
            ds["speed_ratio"] = round(ds["seconds"] / run["seconds"], 1)
            ds["vs_mdfs_fast"] = agreement(pairs, kept_by, ds_kept, near["bands"], near["rows"])
            # the same hash as datasketch (sha1): the same signatures, so the same decisions
            sha1_out = args.workdir / f"run-{size}-sha1"
            shutil.rmtree(sha1_out, ignore_errors=True)
            sha1 = _child(["mdfs", str(folder), str(sha1_out), json.dumps({
                **{k: near[k] for k in ("ngram", "num_perm", "threshold", "seed")}, "hash": "sha1"})])
            ds["vs_mdfs_sha1"] = agreement(pairs, _kept_by(sha1_out), ds_kept, near["bands"], near["rows"])
            ds["vs_mdfs_sha1"]["mdfs_sha1_seconds"] = sha1["seconds"]
            shutil.rmtree(sha1_out, ignore_errors=True)
            # exact-Jaccard verification of the candidate pairs: its cost and what it changes
            verify = _child(["mdfs", str(folder), str(sha1_out), json.dumps({
                **{k: near[k] for k in ("ngram", "num_perm", "threshold", "seed")}, "verify": True})])
            verify["accuracy"] = accuracy(pairs, _kept_by(sha1_out), near["bands"], near["rows"])
            verify.pop("counters")
            run["verify"] = verify
            shutil.rmtree(sha1_out, ignore_errors=True)
            print(f"mdfs verify {size:,}: {verify['seconds']} s, recall "
                  f"{verify['accuracy']['recall_j_ge_0.8']}, "
                  f"false merges {verify['accuracy']['false_merge_j_lt_0.5']}", flush=True)
            run["datasketch"] = ds
            print(f"datasketch {size:,}: {ds['seconds']} s ({ds['speed_ratio']}× mdfs), peak "
                  f"{ds['peak_rss_mb']} MB, "
                  f"agreement {ds['vs_mdfs_fast']} / with sha1 {ds['vs_mdfs_sha1']}", flush=True)
        shutil.rmtree(out, ignore_errors=True)
        results["sizes"][str(size)] = run
    results["machine"]["load_avg_at_end"] = os.getloadavg()
    print()
    print(markdown(results))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    print(f"\nwrote {args.json}")


def _run_row(name: str, size, run: dict, seconds, us_per_doc, rss, removed: int, acc: dict) -> str:
    """One row of the whole-dedup table (mdfs, mdfs with verification, datasketch)."""
    return (f"| {name} | {int(size):,} | {run['text_mb']} | {seconds} | {us_per_doc} | {rss} | {removed:,} | "
            f"{acc['recall_j_ge_0.8']:.2%} | {acc['false_merge_j_lt_0.5']:.2%} |")


def markdown(r: dict) -> str:
    s = r.get("signatures_mb_per_s", {})
    near = r["near"]
    lines = [
        "| signatures (MB/s per core) | mdfs fast | mdfs sha1 | datasketch | ratio fast | ratio sha1 |",
        "|---|---|---|---|---|---|",
        (f"| {near['num_perm']} perm, {near['ngram']}-grams | {s.get('mdfs_fast')} | {s.get('mdfs_sha1')} "
         f"| {s.get('datasketch')} | {s.get('ratio_fast')}× | {s.get('ratio_sha1')}× |"),
        "",
        "| run | documents | text MB | whole dedup s | µs/doc | peak RSS MB | removed | recall J≥0.8 | "
        "false merges J<0.5 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for size, run in r["sizes"].items():
        a = run["accuracy"]
        lines.append(_run_row("mdfs", size, run, run["seconds"], run["us_per_doc"], run["peak_rss_mb"],
                              run["removed"], a))
        if "verify" in run:
            v = run["verify"]
            lines.append(_run_row("mdfs verify", size, run, v["seconds"],
                                  f"{v['seconds'] / v['docs_in'] * 1e6:.1f}", v["peak_rss_mb"],
                                  v["docs_in"] - v["docs_out"], v["accuracy"]))
        if "datasketch" in run:
            d = run["datasketch"]
            lines.append(_run_row("datasketch", size, run, d["seconds"],
                                  f"{d['seconds'] / run['docs_in'] * 1e6:.1f}", d["peak_rss_mb"],
                                  d["removed"], d["accuracy"]))
    for size, run in r["sizes"].items():
        if "datasketch" in run:
            d = run["datasketch"]
            lines += ["",
                      f"datasketch / mdfs whole-dedup time on {int(size):,} documents: {d['speed_ratio']}×",
                      "", ("| datasketch vs | removed sets (Jaccard) | same decision on injected pairs "
                       "| expected if the hashes were independent |"), "|---|---|---|---|"]
            for name in ("mdfs_fast", "mdfs_sha1"):
                a = d[f"vs_{name}"]
                lines.append(f"| {name} | {a['removed_set_jaccard']:.2%} | {a['pair_decisions_equal']:.2%} | "
                             f"{a['pair_decisions_equal_expected_if_independent']:.2%} |")
    sizes = sorted(r["sizes"], key=int)
    if len(sizes) > 1:
        small, big = r["sizes"][sizes[0]], r["sizes"][sizes[-1]]
        lines += ["", (f"time per document, {int(sizes[-1]):,} vs {int(sizes[0]):,}: "
                       f"{big['us_per_doc'] / small['us_per_doc']:.2f}× (1.00× = linear)")]
    big = r["sizes"][sizes[-1]]
    lines += ["", "| Jaccard | pairs | merged (measured) | S-curve at bin middle |", "|---|---|---|---|"]
    lines += [f"| {c['jaccard']} | {c['pairs']:,} | {c['merged']} | {c['s_curve_mid']} |"
              for c in big["accuracy"]["curve"]]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
