"""mdfs export: files of the target size, only the named columns, a deterministic shuffle, and files that
pyarrow, duckdb, polars and Hugging Face datasets all read."""

from __future__ import annotations

import json

import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
import zstandard

import mdfs
from mdfs.errors import InputError, OutputError

from .conftest import CLEAN, TINY

TARGET_MB = 0.25


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, tiny_model):
    import random

    rng = random.Random(3)
    folder = tmp_path_factory.mktemp("export")
    docs = [{"id": f"d-{i:05d}", "text": "".join(rng.choices(CLEAN, k=6)) + f"第{i}号。" + "".join(
        rng.choice("天地玄黄宇宙洪荒日月盈昃辰宿列张") for _ in range(400))} for i in range(3000)]
    (folder / "in").mkdir()
    (folder / "in" / "docs.jsonl").write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs))
    out = folder / "run"
    mdfs.run(str(TINY), str(folder / "in"), str(out), engine="serial", progress=False, report=False,
             overrides=[f"stages.quality.model={tiny_model}", "stages.quality.threshold=0.0",
                        "stages.dedup.near.enabled=false", "input.shard_size_mb=1"])
    return out


def corpus_ids(run_dir):
    return sorted(pads.dataset(str(run_dir / "data")).to_table(columns=["id"]).column("id").to_pylist())


def test_parquet_files_of_the_target_size_with_the_named_columns(run_dir, tmp_path):
    m = mdfs.export(str(run_dir), str(tmp_path / "x"), columns=["id", "text"], target_mb=TARGET_MB)
    sizes = [f["bytes"] for f in m["files"]]
    assert len(sizes) >= 3 \
        and all(0.8 * TARGET_MB * 2**20 <= s <= 1.6 * TARGET_MB * 2**20 for s in sizes[:-1])
    table = pads.dataset(str(tmp_path / "x"), format="parquet").to_table()
    assert table.column_names == ["id", "text"] and m["rows"] == table.num_rows
    assert sorted(table.column("id").to_pylist()) == corpus_ids(run_dir)
    with pytest.raises(OutputError, match="not empty"):
        mdfs.export(str(run_dir), str(tmp_path / "x"))
    with pytest.raises(InputError, match="no column nope"):
        mdfs.export(str(run_dir), str(tmp_path / "y"), columns=["id", "nope"])


def test_shuffle_is_deterministic_and_complete(run_dir, tmp_path):
    a = mdfs.export(str(run_dir), str(tmp_path / "a"), columns=["id", "text"], target_mb=TARGET_MB,
                    shuffle_seed=1)
    b = mdfs.export(str(run_dir), str(tmp_path / "b"), columns=["id", "text"], target_mb=TARGET_MB,
                    shuffle_seed=1)
    c = mdfs.export(str(run_dir), str(tmp_path / "c"), columns=["text"], target_mb=TARGET_MB, shuffle_seed=2)
    assert [f["sha256"] for f in a["files"]] == [f["sha256"] for f in b["files"]]

    def ids(folder):
        return [i for f in sorted(folder.glob("part-*.parquet"))
                for i in pq.read_table(f).column("id").to_pylist()]

    order = ids(tmp_path / "a")
    assert sorted(order) == corpus_ids(run_dir) and order != sorted(order)
    assert pq.read_schema(tmp_path / "c" / "part-00000.parquet").names == ["text"] and c["rows"] == a["rows"]


def test_jsonl_and_zstd_read_by_duckdb_polars_and_datasets(run_dir, tmp_path):
    import datasets
    import duckdb
    import polars as pl

    n = len(corpus_ids(run_dir))
    mdfs.export(str(run_dir), str(tmp_path / "j"), fmt="jsonl", columns=["id", "text"], target_mb=TARGET_MB)
    mdfs.export(str(run_dir), str(tmp_path / "z"), fmt="jsonl.zst", columns=["id", "text"],
                target_mb=TARGET_MB)
    mdfs.export(str(run_dir), str(tmp_path / "p"), target_mb=TARGET_MB)
    for pattern in (f"{tmp_path}/j/*.jsonl", f"{tmp_path}/z/*.jsonl.zst"):
        assert duckdb.sql(f"select count(*) from read_json_auto('{pattern}')").fetchall()[0][0] == n
    assert duckdb.sql(f"select count(*) from '{tmp_path}/p/*.parquet'").fetchall()[0][0] == n
    assert pl.read_ndjson(sorted((tmp_path / "j").glob("*.jsonl"))).height == n
    assert pl.scan_parquet(f"{tmp_path}/p/*.parquet").select(pl.len()).collect().item() == n
    first = zstandard.ZstdDecompressor().decompress((tmp_path / "z" / "part-00000.jsonl.zst").read_bytes(),
                                                    max_output_size=1 << 28)
    assert json.loads(first.splitlines()[0])["id"].startswith("d-")
    for kind, folder, ext in (("json", "z", "jsonl.zst"), ("parquet", "p", "parquet")):
        ds = datasets.load_dataset(kind, data_files=str(tmp_path / folder / f"*.{ext}"), split="train",
                                   cache_dir=str(tmp_path / "hf"))
        assert ds.num_rows == n


def test_export_as_the_runs_final_step_is_redone_only_when_the_corpus_changes(tmp_path, tiny_model):
    folder = tmp_path / "in"
    folder.mkdir()
    docs = [{"id": f"e-{i}", "text": CLEAN[i % len(CLEAN)] + f"第{i}条。"} for i in range(40)]
    (folder / "a.jsonl").write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs[:20]))
    (folder / "b.jsonl").write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs[20:]))
    sets = [f"stages.quality.model={tiny_model}", "stages.quality.threshold=0.0", "input.shard_size_mb=0.001",
            "output.export={format: jsonl, columns: [id, text], target_mb: 0.001, shuffle_seed: 7}"]

    def run(**kw):
        return mdfs.run(str(TINY), str(folder), str(tmp_path / "run"), engine="serial", progress=False,
                        report=False, overrides=sets, **kw)

    first = run()
    exported = tmp_path / "run" / "export"
    rows = [json.loads(line) for f in sorted(exported.glob("part-*.jsonl")) for line in f.open()]
    assert first.export and len(first.export["files"]) > 1 and first.export["rows"] == first.docs_out
    assert sorted(r["id"] for r in rows) == corpus_ids(tmp_path / "run") and set(rows[0]) == {"id", "text"}
    assert run().export is None  # finished run resumed: the export is up to date
    (folder / "b.jsonl").write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs[20:30]))
    updated = run(update=True)
    assert updated.export and updated.export["rows"] == updated.docs_out < first.docs_out
    again = [json.loads(line)["id"] for f in sorted(exported.glob("part-*.jsonl")) for line in f.open()]
    assert sorted(again) == corpus_ids(tmp_path / "run")  # no stale file of the first export left


def test_export_settings_changed_export_anew_and_foreign_folders_are_refused_before_any_work(tmp_path,
                                                                                            tiny_model):
    folder = tmp_path / "in"
    folder.mkdir()
    docs = [{"id": f"s-{i}", "text": CLEAN[i % len(CLEAN)] + f"第{i}条。"} for i in range(20)]
    (folder / "a.jsonl").write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs))
    base = [f"stages.quality.model={tiny_model}", "stages.quality.threshold=0.0"]

    def run(export: str, out: str = "run"):
        return mdfs.run(str(TINY), str(folder), str(tmp_path / out), engine="serial", progress=False,
                        report=False, overrides=[*base, f"output.export={export}"])

    assert run("{format: parquet}").export["format"] == "parquet"
    again = run("{format: jsonl, columns: [id]}")  # same corpus, other settings: not up to date
    assert again.export["format"] == "jsonl" and again.export["columns"] == ["id"]
    names = sorted(p.name for p in (tmp_path / "run" / "export").iterdir())
    assert names == ["_export.json", "part-00000.jsonl"]
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.txt").write_text("not an export")
    for path, message in ((precious, "holds no earlier export"), (tmp_path / "other", "is the run directory"),
                          (folder, "overlaps input")):
        where = tmp_path / "other" if path == tmp_path / "other" else tmp_path / "fresh"
        with pytest.raises(OutputError, match=message):
            run(f"{{path: {path}}}", out=str(where.relative_to(tmp_path)))
        assert not (where / "data").exists()  # refused before any work
    assert (precious / "keep.txt").read_text() == "not an export"
