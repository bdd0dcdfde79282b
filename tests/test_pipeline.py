"""End-to-end runs in the serial engine: output layout, conservation, resume, guards, extension."""

import json
import os

import duckdb
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

import mdfs
from mdfs.cli import main
from mdfs.errors import ConservationError, OutputError, StageError

from .conftest import TINY, make_docs, read_dir, write_jsonl

SERIAL = {"engine": "serial", "progress": False}


def run_tiny(corpus, out, model, *sets, **kw):
    overrides = [f"stages.quality.model={model}", *sets]
    return mdfs.run(str(TINY), str(corpus), str(out), overrides=overrides, **{**SERIAL, **kw})


def test_run_directory_layout_and_manifest(corpus, tmp_path, tiny_model):
    out = tmp_path / "out"
    s = run_tiny(corpus, out, tiny_model, "input.shard_size_mb=0.002")
    assert s.docs_in == 63 and s.docs_in == s.docs_out + s.rejected
    parts = sorted(p.name for p in (out / "data").iterdir())
    assert parts[0] == "part-00000.parquet" and len(parts) > 1
    m = json.loads((out / "manifest.json").read_text())
    assert m["conservation"]["ok"] and m["config"]["stages"][0]["name"] == "collection"
    assert m["stages"]["read"]["reasons"] == {"malformed_json": 1, "missing_text": 1}
    assert m["stages"]["dedup"]["reasons"]["exact_duplicate"] == 12
    assert {"pyarrow", "ray", "fasttext-community"} <= set(m["versions"])
    assert any(f["name"] == "quality__score" for f in m["schema"])
    for f in m["files"]:
        p = out / f["path"]
        assert pq.read_metadata(p).num_rows == f["rows"] and p.stat().st_size == f["bytes"]
        assert pq.read_metadata(p).row_group(0).column(0).compression == "ZSTD"
    # the corpus loads with pyarrow.dataset and with duckdb
    table = ds.dataset(str(out / "data"), format="parquet").to_table()
    assert table.num_rows == s.docs_out
    n = duckdb.sql(f"select count(*) from read_parquet('{out}/data/*.parquet')").fetchall()[0][0]
    assert n == s.docs_out
    rejects = duckdb.sql(f"select stage, reason, count(*) from read_parquet('{out}/rejects/*/*.parquet') "
                         "group by all order by all").fetchall()
    assert ("dedup", "exact_duplicate", 12) in rejects
    dup = ds.dataset(str(out / "rejects" / "dedup"), format="parquet").to_table().to_pylist()[0]
    assert dup["detail"].startswith("kept=") and dup["text"]
    assert not (out / "_work").exists()


def test_every_input_document_is_accounted_for(corpus, tmp_path, tiny_model):
    out = tmp_path / "out"
    run_tiny(corpus, out, tiny_model, "stages.coarse.min_chars=60")
    kept = {r["id"] for r in read_dir(out / "data")}
    rejected = {r["id"] for r in read_dir(out / "rejects")}
    assert not kept & rejected
    expected = {f"doc-{i:04d}" for i in range(60)} | {"c.txt", "no-text"}
    assert expected <= kept | rejected and len(kept) + len(rejected) == 63


def test_conservation_failure_is_loud(corpus, tmp_path, tiny_model, monkeypatch):
    from mdfs import steps

    real = steps.split_rejects

    def lossy(stage, batch, stats, keep_text):  # a bug that loses a row without counting it
        kept, rejected = real(stage, batch, stats, keep_text)
        return (kept.slice(1) if stage == "fine" and kept.num_rows else kept), rejected

    monkeypatch.setattr(steps, "split_rejects", lossy)
    with pytest.raises(ConservationError, match="segment 1: 49 kept but 48 rows written to data"):
        run_tiny(corpus, tmp_path / "out", tiny_model)


def test_resume_after_crash_gives_identical_output(corpus, tmp_path, tiny_model, monkeypatch):
    hooks = ["stages.coarse.hooks={before: ['tests.plugins:crash_on_shard']}", "input.shard_size_mb=0.002"]
    ref = run_tiny(corpus, tmp_path / "ref", tiny_model, *hooks)
    monkeypatch.setenv("MDFS_TEST_CRASH_SHARD", "part-00002")
    with pytest.raises(StageError,
                       match="simulated crash.*stage=coarse, shard=part-00002, hook=tests.plugins"):
        run_tiny(corpus, tmp_path / "out", tiny_model, *hooks)
    assert (tmp_path / "out" / "stats" / "shards" / "seg0-part-00000.json").exists()
    monkeypatch.delenv("MDFS_TEST_CRASH_SHARD")
    resumed = run_tiny(corpus, tmp_path / "out", tiny_model, *hooks)
    assert resumed.shards_skipped >= 2 and resumed.shards_run < ref.shards_run
    for sub in ("data", "rejects"):
        assert read_dir(tmp_path / "out" / sub) == read_dir(tmp_path / "ref" / sub)
    again = run_tiny(corpus, tmp_path / "out", tiny_model, *hooks)
    assert again.shards_run == 0 \
        and read_dir(tmp_path / "out" / "data") == read_dir(tmp_path / "ref" / "data")


def test_changed_inputs_are_refused_not_resumed(corpus, tmp_path, tiny_model):
    """Adding a file that sorts first, or changing one, used to resume into a corpus with documents lost
    and doubled (or the old corpus): now the rerun refuses before any work, and --force starts over."""
    out = tmp_path / "out"
    run_tiny(corpus, out, tiny_model, "input.shard_size_mb=0.002")
    # unchanged: resumes
    assert run_tiny(corpus, out, tiny_model, "input.shard_size_mb=0.002").shards_run == 0
    write_jsonl(corpus / "0-first.jsonl",
                [{"id": f"new-{i}", "text": "新增的文档。" * 20 + str(i)} for i in range(10)])
    with pytest.raises(OutputError,
                       match=r"inputs changed .*added \S*0-first.jsonl \(1\).*--update.*--force"):
        run_tiny(corpus, out, tiny_model, "input.shard_size_mb=0.002")
    forced = run_tiny(corpus, out, tiny_model, "input.shard_size_mb=0.002", force=True)
    fresh = run_tiny(corpus, tmp_path / "fresh", tiny_model, "input.shard_size_mb=0.002")
    assert forced.docs_in == fresh.docs_in == 73 \
        and read_dir(out / "data") == read_dir(tmp_path / "fresh" / "data")
    (corpus / "c.txt").write_text("改过的纯文本文件。" * 10, encoding="utf-8")
    with pytest.raises(OutputError, match=r"changed \S*c.txt"):
        run_tiny(corpus, out, tiny_model, "input.shard_size_mb=0.002")


def parts(path):
    """Rows of each Parquet part under `path`, by file name: equal parts, not only equal corpora."""
    import pyarrow.parquet as pq

    return {p.relative_to(path).as_posix(): pq.read_table(p).to_pylist()
            for p in sorted(path.rglob("*.parquet"))}


def test_update_redoes_only_the_shards_whose_inputs_changed(corpus, tmp_path, tiny_model):
    """--update after an input changed, was added or removed: the result equals a fresh run over the new
    inputs, part by part (dedup's global phases included), and unchanged shards are not redone."""
    out, small = tmp_path / "out", "input.shard_size_mb=0.002"
    first = run_tiny(corpus, out, tiny_model, small, "output.keep_work=true")
    (corpus / "c.txt").write_text("改过的纯文本文件，内容不同了。" * 10, encoding="utf-8")
    updated = run_tiny(corpus, out, tiny_model, small, "output.keep_work=true", update=True)
    # c.txt is in one shard: its first segment is redone; after dedup, every shard is (dedup's choices
    # may change anywhere); the first segment of the other shards is kept (keep_work kept its outputs)
    assert updated.shards_run == 1 + first.shards_run // 2
    fresh = run_tiny(corpus, tmp_path / "fresh1", tiny_model, small)
    for sub in ("data", "rejects"):
        assert parts(out / sub) == parts(tmp_path / "fresh1" / sub)
    write_jsonl(corpus / "0-first.jsonl",
                [{"id": f"new-{i}", "text": "新增的文档。" * 20 + str(i)} for i in range(10)])
    (corpus / "b.jsonl.gz").unlink()
    updated = run_tiny(corpus, out, tiny_model, small, update=True)
    fresh = run_tiny(corpus, tmp_path / "fresh2", tiny_model, small)
    assert updated.docs_in == fresh.docs_in and updated.docs_out == fresh.docs_out
    for sub in ("data", "rejects"):
        assert parts(out / sub) == parts(tmp_path / "fresh2" / sub)
    assert run_tiny(corpus, out, tiny_model, small, update=True).shards_run == 0


def test_update_keeps_the_cut_min_shards_chose_when_the_input_grows(tmp_path, tiny_model):
    """min_shards cuts a small input by its total size; a file added later must not move every other
    shard's boundaries: --update cuts for the recorded size, so only the new file's shard runs."""
    folder = tmp_path / "in"
    for name in ("a", "b"):
        write_jsonl(folder / f"{name}.jsonl", make_docs(40, name))
    sets = ["input.shard_size_mb=64", "input.min_shards=8", "input.min_shard_mb=0.001",
            "stages.dedup.enabled=false"]
    first = run_tiny(folder, tmp_path / "out", tiny_model, *sets)
    assert first.shards_run >= 8
    write_jsonl(folder / "c.jsonl", make_docs(10, "c"))
    updated = run_tiny(folder, tmp_path / "out", tiny_model, *sets, update=True)
    assert updated.shards_run == 1 and updated.docs_in == first.docs_in + 10
    target = json.loads((tmp_path / "out" / "_mdfs_run.json").read_text())["shard_target"]
    assert 0 < target < 2**20


def test_damaged_marker_redoes_that_shard(corpus, tmp_path, tiny_model):
    out = tmp_path / "out"
    run_tiny(corpus, out, tiny_model, "input.shard_size_mb=0.002")
    before = read_dir(out / "data")
    (out / "stats" / "shards" / "seg1-part-00001.json").write_text("{trunc")
    (out / "data" / "part-00000.parquet").unlink()
    s = run_tiny(corpus, out, tiny_model, "input.shard_size_mb=0.002", "output.keep_work=true")
    assert s.shards_run >= 2 and read_dir(out / "data") == before


def test_output_guards(corpus, tmp_path, tiny_model):
    out = tmp_path / "out"
    run_tiny(corpus, out, tiny_model)
    with pytest.raises(OutputError, match="different config.*--force"):
        run_tiny(corpus, out, tiny_model, "stages.coarse.min_chars=10")
    s = run_tiny(corpus, out, tiny_model, "stages.coarse.min_chars=10", force=True)
    assert s.shards_skipped == 0
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="not an mdfs run"):
        run_tiny(corpus, other, tiny_model)
    with pytest.raises(OutputError, match="never writes into its input"):
        run_tiny(corpus, corpus / "out", tiny_model)
    assert sorted(p.name for p in corpus.iterdir()) == ["a.jsonl", "b.jsonl.gz", "c.txt"]


def test_custom_stage_and_hooks(corpus, tmp_path, tiny_model):
    from tests import plugins

    write_jsonl(corpus / "ads.jsonl", [{"id": "ad-1", "text": "这是一条广告，" * 10}])
    plugins.ENDED.clear()
    cfg = tmp_path / "custom.yaml"
    cfg.write_text(f"""
stages:
  - name: collection
  - name: no_ads
    uses: tests.plugins:DropKeyword
    with: {{keyword: 广告}}
    hooks: {{after: [tests.plugins:tag_length], on_end: [tests.plugins:record_end]}}
  - name: quality
    with: {{model: {tiny_model}, threshold: 0.0}}
""")
    s = mdfs.run(str(cfg), str(corpus), str(tmp_path / "out"), **SERIAL)
    assert s.stages["no_ads"].reasons == {"keyword": 1}
    assert s.stages["no_ads"].counters["hits"] == 1
    assert plugins.ENDED[0][0] == "no_ads" and plugins.ENDED[0][1]["docs_in"] == 62
    row = read_dir(tmp_path / "out" / "data")[0]
    assert "hook__len" in row and "no_ads__hit" in row
    cfg.write_text(cfg.read_text().replace("record_end", "abort_if_too_many_rejects"))
    with pytest.raises(StageError, match="no_ads rejected too much.*hook=tests.plugins:abort"):
        mdfs.run(str(cfg), str(corpus), str(tmp_path / "out2"), **SERIAL)


def test_cli_run_prints_locations_and_conservation(corpus, tmp_path, tiny_model, capsys):
    out = tmp_path / "out"
    code = main(["run", str(TINY), "-i", str(corpus), "-o", str(out), "--engine", "serial", "--no-progress",
                 "--set", f"stages.quality.model={tiny_model}"])
    text = capsys.readouterr().out
    assert code == 0 and "conservation OK: 63 in" in text and f"{out}/data" in text
    assert main(["run", str(TINY), "-i", str(tmp_path / "missing"), "-o", str(out), "--engine",
                 "serial"]) == 2
    assert "input not found" in capsys.readouterr().err


def test_parquet_input_and_field_names(tmp_path, tiny_model):
    import pyarrow as pa

    folder = tmp_path / "pq"
    folder.mkdir()
    pq.write_table(pa.table({"doc": ["杭州的西湖很美，" * 5, None, "研究人员发现运动改善睡眠。" * 3],
                             "key": ["k1", "k2", "k3"]}), folder / "x.parquet")
    s = run_tiny(folder, tmp_path / "out", tiny_model, "input.text_field=doc", "input.id_field=key")
    assert s.docs_in == 3 and s.stages["read"].reasons == {"missing_text": 1}
    assert {r["id"] for r in read_dir(tmp_path / "out" / "data")} == {"k1", "k3"}


def test_rejects_carry_the_scores_computed_before_they_were_dropped(corpus, tmp_path, tiny_model):
    """A threshold can be re-tuned with a query in both directions: the rejects hold the scores too."""
    import pyarrow.dataset as ds

    out = tmp_path / "out"
    run_tiny(corpus, out, tiny_model)
    dedup = ds.dataset(str(out / "rejects" / "dedup")).to_table()
    assert {"coarse__zh_ratio", "quality__score"} <= set(dedup.column_names)
    assert dedup.column("quality__score").null_count == 0
    read = ds.dataset(str(out / "rejects" / "read")).to_table()
    assert "quality__score" not in read.column_names and read.num_rows == 2  # only what was computed before


def test_one_schema_and_no_all_null_web_columns_for_text_input(corpus, tmp_path, tiny_model):
    import pyarrow as pa
    import pyarrow.dataset as ds

    from mdfs.schema import WEB_ONLY

    out = tmp_path / "out"
    run_tiny(corpus, out, tiny_model)
    for sub in ("data", "rejects/dedup"):
        schema = ds.dataset(str(out / sub)).schema
        assert not set(WEB_ONLY) & set(schema.names)
        scores = [f for f in schema if "__" in f.name]
        assert scores and all(f.type in (pa.int64(), pa.float32(), pa.bool_(), pa.string()) for f in scores)
    assert ds.dataset(str(out / "data")).schema.field("fine__chars").type == pa.int64()


def test_update_when_the_kept_copy_of_a_duplicate_changes(tmp_path, tiny_model):
    """A changed shard changes what dedup removes from unchanged shards: --update must redo them too,
    and an update interrupted half-way must resume to the same result (nothing stale on disk)."""
    from .conftest import CLEAN

    small = "input.shard_size_mb=0.001"
    same = "这段文字在两个文件里都有。" + CLEAN[0] + CLEAN[1]
    write_jsonl(tmp_path / "in" / "a.jsonl", [{"id": "a-x", "text": same}] + make_docs(8, "a"))
    write_jsonl(tmp_path / "in" / "z.jsonl", make_docs(8, "z") + [{"id": "z-x", "text": same}])
    out = tmp_path / "out"
    hook = "stages.fine.hooks={before: ['tests.plugins:crash_on_shard']}"
    run_tiny(tmp_path / "in", out, tiny_model, small, hook)
    assert "z-x" not in {r["id"] for r in read_dir(out / "data")}  # removed as a copy of a-x
    write_jsonl(tmp_path / "in" / "a.jsonl", [{"id": "a-y", "text": "换了一篇。" + CLEAN[2] + CLEAN[3]}]
                + make_docs(8, "a"))
    os.environ["MDFS_TEST_CRASH_SHARD"] = "part-00002"
    try:  # an update that dies after its first segment and the dedup phases
        with pytest.raises(StageError, match="simulated crash"):
            run_tiny(tmp_path / "in", out, tiny_model, small, hook, update=True)
    finally:
        del os.environ["MDFS_TEST_CRASH_SHARD"]
    run_tiny(tmp_path / "in", out, tiny_model, small, hook, update=True)
    run_tiny(tmp_path / "in", tmp_path / "fresh", tiny_model, small, hook)
    for sub in ("data", "rejects"):
        assert parts(out / sub) == parts(tmp_path / "fresh" / sub)
    assert "z-x" in {r["id"] for r in read_dir(out / "data")}
