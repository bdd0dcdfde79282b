"""Deduplication: datasketch-equal signatures, LSH accuracy on generated near-duplicates, the keep policy,
resuming an interrupted dedup phase, and the multi-phase global-stage contract through the engines."""

import json
import random

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from datasketch import MinHash, MinHashLSH

import mdfs
from mdfs import storage
from mdfs.config import ConfigError, validate
from mdfs.errors import StageError
from mdfs.globalwork import GlobalWork
from mdfs.layout import RunLayout
from mdfs.plan import compile_plan
from mdfs.stage import StageContext
from mdfs.stages import neardup
from mdfs.stages.dedup import Dedup, NearParams
from mdfs.stages.minhash import MinHasher, candidate_probability, fast_hash32, normalise

from tools.bench.dedup import union_find_keepers

from .conftest import CLEAN, TINY, crash_when, make_docs, read_dir, shared, write_jsonl

CHARS = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可也你说年面过能下子得发"
CHARS += "山水花鸟云雨风雪春夏秋冬东南西北城市乡村学校医院工厂农田河流湖海森林草原铁路机场港口桥梁"


def fixture_texts() -> list[str]:
    """Written texts covering the edge cases: short, empty after normalisation, mixed scripts, repeats."""
    return [*CLEAN, "短文", "", "，。！？…… ——", "ABC abc ＡＢＣ", "Hello, World! 你好，世界。",
            "重复重复重复重复重复重复重复重复", "第1篇：2024年3月，价格为¥12.5元（含税）。",
            "臺灣的學校與醫院"]


def shingles_of(text: str, n: int) -> set[str]:
    """The shingle set written independently of the vectorised code: n-grams of the normalised text."""
    t = normalise([text])[0]
    if len(t) < n:
        return {t} if t else set()
    return {t[i:i + n] for i in range(len(t) - n + 1)}


def assert_equal_to_datasketch(texts: list[str], hash_: str, scheme: str, n: int = 5,
                               perms: int = 64) -> None:
    sig, has = MinHasher(perms, 7, n, hash_, scheme).signatures(pa.array(texts))
    for i, text in enumerate(texts):
        kwargs = {"hashfunc": fast_hash32} if hash_ == "fast" else {}
        m = MinHash(num_perm=perms, seed=7, scheme=scheme, **kwargs)
        m.update_batch([s.encode("utf-8") for s in shingles_of(text, n)])
        assert np.array_equal(m.hashvalues.astype(np.uint64), sig[i].astype(np.uint64)), (hash_, scheme, text)
        assert has[i] == (not m.is_empty())


@pytest.mark.parametrize("hash_", ["fast", "sha1"])
@pytest.mark.parametrize("scheme", ["affine32", "legacy"])
def test_signatures_equal_datasketch(hash_, scheme):
    assert_equal_to_datasketch(fixture_texts(), hash_, scheme)
    assert_equal_to_datasketch(fixture_texts(), hash_, scheme, n=2, perms=16)


def test_signatures_equal_datasketch_on_wikipedia():
    lines = (shared("wiki-zh") / "drcd_paragraphs.zh-Hant-TW.jsonl").read_text("utf-8").splitlines()[:40]
    texts = [json.loads(line)["text"] for line in lines]
    assert_equal_to_datasketch(texts, "sha1", "affine32", perms=128)  # datasketch's defaults
    assert_equal_to_datasketch(texts[:10], "fast", "affine32", perms=128)


def test_normalise_keeps_letters_and_digits_only():
    assert normalise(["Hello, 世界！ A_b 1２ \n ok。", "", "，。"]) == ["hello世界ab12ok", "", ""]


def test_lsh_parameters_come_from_datasketch():
    p = NearParams(enabled=True, threshold=0.7, num_perm=128)
    lsh = MinHashLSH(threshold=0.7, num_perm=128)
    assert p.lsh() == (lsh.b, lsh.r) == (14, 9)
    assert NearParams(bands=20, rows=5).lsh() == (20, 5)
    assert candidate_probability(0.9, 14, 9) > 0.99
    assert candidate_probability(0.3, 14, 9) < 0.01
    for bad, message in [({"near": {"bands": 4}}, "both bands and rows"),
                         ({"near": {"bands": 20, "rows": 10}}, "exceeds num_perm"),
                         ({"exact": False}, "nothing to do")]:
        with pytest.raises(ConfigError, match=message):
            compile_plan(validate({"stages": [{"name": "dedup", "with": bad}]}))


# -- generated near-duplicates (no shared data needed) --------------------------------------------------
def near_corpus(n_base: int = 40, seed: int = 0) -> tuple[list[dict], dict[str, tuple[str, float]]]:
    """Random-character originals, each with a close copy (J ≈ 0.94), a medium one (J ≈ 0.55, sometimes an
    LSH candidate but under the threshold), a distant one (J ≈ 0.15) and every third an exact copy with
    other punctuation; returns the documents and copy id → (original id, kind)."""
    rng = random.Random(seed)
    docs, truth = [], {}
    for b in range(n_base):
        text = "".join(rng.choice(CHARS) for _ in range(300))
        docs.append({"id": f"b{b:03d}", "text": text, "url": f"https://www.site{b % 4}.cn/{b}"})
        for kind, edits in (("close", 2), ("medium", 20), ("far", 80)):
            chars = list(text)
            for i in rng.sample(range(len(chars)), edits):
                chars[i] = rng.choice(CHARS.replace(chars[i], ""))
            docs.append({"id": f"{kind}{b:03d}", "text": "".join(chars), "url": f"https://copy.cn/{kind}{b}"})
            truth[f"{kind}{b:03d}"] = (f"b{b:03d}", kind)
        if b % 3 == 0:
            docs.append({"id": f"exact{b:03d}",
                         "text": "，".join(text[i:i + 50] for i in range(0, 300, 50)) + "！",
                         "url": f"https://mirror.cn/{b}"})
            truth[f"exact{b:03d}"] = (f"b{b:03d}", "exact")
    rng.shuffle(docs)
    return docs, truth


def dedup_yaml(tmp_path, near: dict | None = None, exact: bool = True):
    cfg = {"input": {"shard_size_mb": 0.01}, "stages": [{"name": "dedup", "with": {
        "buckets": 8, "exact": exact, "near": {"enabled": True, **(near or {})}}}]}
    path = tmp_path / "dedup.yaml"
    path.write_text(json.dumps(cfg))
    return str(path)


def run_serial(cfg, corpus, out, *sets):
    return mdfs.run(cfg, str(corpus), str(out), engine="serial", progress=False, overrides=list(sets))


def kept_by(out) -> dict[str, tuple[str, str]]:
    rows = read_dir(out / "rejects" / "dedup")
    return {r["id"]: (r["reason"], r["detail"][len("kept="):]) for r in rows}


@pytest.fixture(scope="module")
def near_input(tmp_path_factory):
    folder = tmp_path_factory.mktemp("near") / "in"
    docs, truth = near_corpus()
    write_jsonl(folder / "a.jsonl", docs[:80])
    write_jsonl(folder / "b.jsonl", docs[80:])
    return folder, docs, truth


@pytest.fixture(scope="module")
def near_reference(near_input, tmp_path_factory):
    """An uninterrupted run with verification on, kept as the reference output."""
    tmp = tmp_path_factory.mktemp("ref")
    s = run_serial(dedup_yaml(tmp, {"verify": True}), near_input[0], tmp / "out")
    return tmp / "out", s


def test_near_duplicates_through_the_pipeline(near_input, near_reference):
    _, docs, truth = near_input
    out, s = near_reference
    removed = kept_by(out)
    cluster = {doc: kept for doc, (_, kept) in removed.items()}  # a removed document → the one kept
    # every exact and close copy is merged with its original; no medium or distant copy is
    for doc, (orig, kind) in truth.items():
        together = cluster.get(doc, doc) == cluster.get(orig, orig)
        assert together == (kind in ("close", "exact")), (doc, kind)
    assert {r for r, _ in removed.values()} == {"exact_duplicate", "near_duplicate"}
    m = json.loads((out / "manifest.json").read_text())
    st = m["stages"]["dedup"]
    assert m["conservation"]["ok"] and s.docs_in == len(docs) == s.docs_out + len(removed)
    assert st["reasons"]["near_duplicate"] + st["reasons"].get("exact_duplicate",
                                                               0) == st["counters"]["removed"]
    assert st["counters"]["clusters"] == 40 and st["counters"]["pairs_rejected"] > 0
    assert sum(v for k, v in st["counters"].items() if k.startswith("cluster_size_")) == 40
    assert st["notes"]["removed_by_domain"]["copy.cn"] > 0 \
        and st["notes"]["examples"][0]["members"][0]["text"]
    assert not (out / "_work").exists()


def test_resume_of_an_interrupted_dedup_phase(near_input, near_reference, tmp_path, monkeypatch):
    folder = near_input[0]
    ref, _ = near_reference
    cfg = dedup_yaml(tmp_path, {"verify": True})
    real = neardup.verify_check
    monkeypatch.setattr(neardup, "verify_check", crash_when(real, lambda plan, item, work, ctx: item == 1))
    with pytest.raises(StageError, match="phase verify_check item 1 raised RuntimeError: simulated crash"):
        run_serial(cfg, folder, tmp_path / "out", "output.keep_work=true")
    monkeypatch.setattr(neardup, "verify_check", real)
    stats = tmp_path / "out" / "stats" / "global"
    done = {p.name: p.stat().st_mtime_ns for p in stats.iterdir()}
    assert "dedup-candidates-00000.json" in done and "dedup-clusters-00000.json" not in done
    resumed = run_serial(cfg, folder, tmp_path / "out", "output.keep_work=true")
    assert resumed.shards_skipped > 0 and all(
        (stats / name).stat().st_mtime_ns == t for name, t in done.items())  # finished items not redone
    for sub in ("data", "rejects"):
        assert read_dir(tmp_path / "out" / sub) == read_dir(ref / sub)
    # a lost intermediate file (and one output part) is found by the markers and rebuilt identically
    edges = sorted((tmp_path / "out" / "_work" / "dedup" / "edges").rglob("*.parquet"))
    edges[0].unlink()
    (tmp_path / "out" / "data" / "part-00001.parquet").unlink()
    again = run_serial(cfg, folder, tmp_path / "out", "output.keep_work=true")
    assert again.shards_run >= 1
    for sub in ("data", "rejects"):
        assert read_dir(tmp_path / "out" / sub) == read_dir(ref / sub)


def test_cluster_rounds_resume_after_a_crash_and_leave_no_stale_round(near_input, near_reference, tmp_path,
                                                                     monkeypatch):
    """The repeated `stars` phase: a crash in round 1 resumes at round 1 (round 0 not redone), the output
    equals the uninterrupted run's, rounds past the recorded count (left by a longer earlier run) go."""
    from mdfs.stages import dupclusters

    folder = near_input[0]
    ref, _ = near_reference
    cfg = dedup_yaml(tmp_path, {"verify": True, "cluster_partitions": 6})  # a small run takes 1 by default
    real = dupclusters.stars

    in_round_1 = crash_when(real, lambda partitions, item, work, ctx, round_: round_ == 1 and item == 2)
    monkeypatch.setattr(dupclusters, "stars", in_round_1)
    with pytest.raises(StageError, match="phase stars-round1 item 2 raised RuntimeError"):
        run_serial(cfg, folder, tmp_path / "out", "output.keep_work=true")
    monkeypatch.setattr(dupclusters, "stars", real)
    stats = tmp_path / "out" / "stats" / "global"
    round0 = {p.name: p.stat().st_mtime_ns for p in stats.glob("dedup-stars-round0-*.json")}
    partitions = 6  # near.cluster_partitions above: stars run over the cluster partitions
    record = tmp_path / "out" / "_work" / "dedup" / "stars.rounds.json"
    assert len(round0) == partitions > 2 and not record.exists()
    left = {**json.loads((stats / "dedup-stars-round0-00000.json").read_text()), "files": []}
    for r in range(2, 30):  # what a longer earlier run would have left: redone or deleted, never read
        marker = {**left, "phase": f"stars-round{r}"}
        (stats / f"dedup-stars-round{r}-00000.json").write_text(json.dumps(marker))
    run_serial(cfg, folder, tmp_path / "out", "output.keep_work=true")
    assert all((stats / name).stat().st_mtime_ns == t for name, t in round0.items())
    record = json.loads((tmp_path / "out" / "_work" / "dedup" / "stars.rounds.json").read_text())
    assert record["changes"][-2:] == [0, 0] and record["rounds"] == len(record["changes"]) >= 2
    assert not [p for p in stats.glob("dedup-stars-round*-*.json")
                if int(p.name.split("round")[1].split("-")[0]) >= record["rounds"]]
    for sub in ("data", "rejects"):
        assert read_dir(tmp_path / "out" / sub) == read_dir(ref / sub)


def test_exact_only_keeps_the_two_method_contract(near_input, tmp_path):
    s = run_serial(dedup_yaml(tmp_path, {"enabled": False}), near_input[0], tmp_path / "out",
                   "output.keep_work=true")
    assert s.stages["dedup"].reasons == {"exact_duplicate": 14}
    assert (tmp_path / "out" / "stats" / "global" / "dedup-resolve-00000.json").exists()
    assert list((tmp_path / "out" / "_work" / "dedup" / "keys").glob("bucket-*/map-*.parquet"))


# -- the keep policy, on the phases directly -------------------------------------------------------------
def run_global(stage, shards: list[pa.Table], tmp) -> pa.Table:
    """The engine's calls, in order, without an engine: map each shard, then each phase's items."""
    layout = RunLayout(str(tmp))
    stage.setup()
    for i, table in enumerate(shards):
        storage.write_parquet(layout.work(0, i), table)
        work = GlobalWork(layout, stage.name, "map", i, compression="zstd", segment=0)
        stage.map_shard(table, work, StageContext(stage.name, f"part-{i:05d}"))
        work.close()
    def run_items(phase) -> int:
        changed = 0
        for item in range(phase.items):
            work = GlobalWork(layout, stage.name, phase.name, item, compression="zstd", segment=0,
                              shards=len(shards))
            ctx = StageContext(stage.name, phase.name)
            phase.run(item, work, ctx)
            work.close()
            changed += ctx.counters.get("changed", 0)
        return changed

    for phase in stage.phases(len(shards)):
        if phase.stable is None:
            run_items(phase)
            continue
        changes = []  # a repeated phase: rounds until stable, then the record the next phases read
        while not phase.stable(changes):
            changes.append(run_items(phase.round(len(changes))))
        storage.write_json(layout.rounds_record(stage.name, phase.name), {"rounds": len(changes)})
    removals = ds.dataset(layout.removals_dir(stage.name), format="parquet").to_table()
    return removals.sort_by([("shard", "ascending"), ("row", "ascending")])


def scored(rows: list[tuple[str, str, float]]) -> pa.Table:
    return pa.table({"id": [r[0] for r in rows], "text": [r[1] for r in rows],
                     "quality__score": pa.array([r[2] for r in rows], pa.float32())})


@pytest.mark.parametrize("keep,expected", [
    (["highest_score", "longest", "smallest_id"], "b-long"),  # 0.9 twice: the longer one
    (["longest", "smallest_id"], "c-longest"),
    (["smallest_id"], "a-short"),
])
def test_keep_policy(tmp_path, keep, expected):
    rng = random.Random(1)
    base = "".join(rng.choice(CHARS) for _ in range(400))
    shards = [scored([("x-other", CLEAN[0] * 3, 1.0), ("a-short", base, 0.9)]),
              scored([("c-longest", base + "附加的一句话和更多的文字内容", 0.5),
                      ("b-long", base + "附加", 0.9)]),
              scored([("d-copy", base, 0.9)])]
    stage = Dedup("dedup", Dedup.Params(buckets=4, keep=keep, near=NearParams(enabled=True)))
    removals = run_global(stage, shards, tmp_path)
    gone = {shards[s]["id"][r].as_py(): (reason, detail) for s, r, reason, detail in
            zip(*(removals.column(c).to_pylist() for c in ("shard", "row", "reason", "detail")))}
    assert set(gone) == {"a-short", "b-long", "c-longest", "d-copy"} - {expected}
    assert {d for _, d in gone.values()} == {f"kept={expected}"}
    # a copy identical to the kept document is an exact duplicate, the others near duplicates
    assert gone.get("d-copy", ("exact_duplicate",))[0] == ("exact_duplicate" if expected == "a-short"
                                                           else "near_duplicate")


# -- accuracy on generated corpora from real text -------------------------------------------------------
@pytest.mark.slow
def test_lsh_recall_false_merges_and_agreement_with_datasketch(tmp_path):
    from tools.bench.dedup import accuracy, load_sentences, make_corpus

    shared("wiki-zh")
    docs, pairs = make_corpus(2500, load_sentences(), seed=5)
    folder = tmp_path / "in"
    write_jsonl(folder / "docs.jsonl", docs.to_pylist())
    near = NearParams(enabled=True)
    bands, rows = near.lsh()
    out = tmp_path / "out"
    run_serial(dedup_yaml(tmp_path, {"hash": "sha1"}), folder, out, "input.shard_size_mb=1")
    ours = {k: v for k, (_, v) in kept_by(out).items()}
    acc = accuracy(pairs, ours, bands, rows)
    assert acc["pairs_j_ge_0.8"] > 200 and acc["pairs_j_lt_0.5"] > 200
    assert acc["recall_j_ge_0.8"] >= 0.95 and acc["false_merge_j_lt_0.5"] <= 0.01
    assert acc["removed_outside_family"] == 0
    # datasketch's MinHashLSH over the same shingles, bands and rows finds the same clusters
    ids, texts = docs.column("id").to_pylist(), docs.column("text").to_pylist()
    lsh = MinHashLSH(num_perm=near.num_perm, params=(bands, rows))
    sigs = []
    for i, text in enumerate(texts):
        m = MinHash(num_perm=near.num_perm, seed=near.seed)
        m.update_batch([s.encode() for s in shingles_of(text, near.ngram)])
        sigs.append(m)
        if not m.is_empty():
            lsh.insert(i, m)
    pairs = ((i, j) for i, m in enumerate(sigs) if not m.is_empty() for j in lsh.query(m))
    keeper = union_find_keepers(len(ids), pairs, lambda i: (-len(texts[i]), ids[i]))
    theirs = {ids[i]: ids[k] for i, k in keeper.items()}
    # mdfs also merges documents whose normalised text is identical but too short for a shingle
    assert ours == theirs


# -- the same phases on Ray actors ----------------------------------------------------------------------
@pytest.mark.slow
def test_near_dedup_on_ray_equals_serial(near_input, near_reference, tmp_path):
    out = tmp_path / "out"
    mdfs.run(dedup_yaml(tmp_path, {"verify": True}), str(near_input[0]), str(out), engine="ray", workers=2,
             progress=False)
    for sub in ("data", "rejects"):
        assert read_dir(out / sub) == read_dir(near_reference[0] / sub)


def test_ids_shared_by_different_texts_are_reported(tmp_path, tiny_model, caplog):
    """Input ids are not always unique: the same id on two different texts is counted and named at the
    end of the run (the same id on the same text is an exact duplicate, removed)."""
    docs = make_docs(40)
    docs[30]["id"] = docs[2]["id"]  # another text under an existing id
    docs[31]["id"], docs[31]["text"] = docs[5]["id"], docs[5]["text"]  # the same document twice
    write_jsonl(tmp_path / "in" / "a.jsonl", docs[:20])
    write_jsonl(tmp_path / "in" / "b.jsonl", docs[20:])
    s = mdfs.run(str(TINY), str(tmp_path / "in"), str(tmp_path / "out"), engine="serial", progress=False,
                 report=False, overrides=[f"stages.quality.model={tiny_model}", "input.shard_size_mb=0.001"])
    assert s.stages["dedup"].counters["shared_ids"] == 1
    assert "1 ids are carried by documents with different texts (e.g. doc-0002)" in caplog.text
