"""Input fields mdfs does not consume travel to the corpus and the rejects, with their types."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

import mdfs
from mdfs.metadata import concat

from .conftest import TINY, make_docs, write_jsonl


def rich_docs(n: int, prefix: str) -> list[dict]:
    docs = make_docs(n, prefix)
    for i, d in enumerate(docs):
        d.update({"title": f"标题{i}", "license": "cc-by-4.0", "source": "crawl-A", "tags": ["zh", "news"],
                  "meta": {"crawl": "2026-11", "rank": i}})
    return docs


def run(tmp_path, model, *sets, out_name="out"):
    out = tmp_path / out_name
    mdfs.run(str(TINY), str(tmp_path / "in"), str(out), engine="serial", progress=False, report=False,
             overrides=[f"stages.quality.model={model}", *sets])
    rows = ds.dataset(str(out / "data")).to_table().to_pylist()
    dedup = out / "rejects" / "dedup"
    rejects = ds.dataset(str(dedup)).to_table().to_pylist() if dedup.exists() else []
    return rows, rejects


def test_jsonl_and_parquet_fields_are_kept_in_corpus_and_rejects(tmp_path, tiny_model):
    write_jsonl(tmp_path / "in" / "a.jsonl", rich_docs(20, "j"))
    parquet = pa.Table.from_pylist(rich_docs(20, "p"))
    pq.write_table(parquet, tmp_path / "in" / "b.parquet")
    rows, rejects = run(tmp_path, tiny_model)
    for r in rows + rejects:
        i = int(r["id"][2:])
        assert r["title"] == f"标题{i}" and r["license"] == "cc-by-4.0" and r["tags"] == ["zh", "news"]
        assert r["meta"] == {"crawl": "2026-11", "rank": i}  # nested, typed
        assert r["input_source"] == "crawl-A" and r["source"] in ("a.jsonl", "b.parquet")  # never overwritten
    assert rejects  # dedup removed the repeats: rejects carry the fields too
    schema = ds.dataset(str(tmp_path / "out" / "data")).schema
    assert schema.field("meta").type == pa.struct([("crawl", pa.string()), ("rank", pa.int64())])


def test_metadata_can_be_selected_dropped_or_prefixed(tmp_path, tiny_model):
    write_jsonl(tmp_path / "in" / "a.jsonl", rich_docs(10, "j"))
    rows, _ = run(tmp_path, tiny_model, "input.metadata=[title]", "input.metadata_prefix=in_", out_name="o1")
    assert "in_title" in rows[0] and not {"license", "in_license", "tags", "in_tags"} & set(rows[0])
    rows, _ = run(tmp_path, tiny_model, "input.metadata=drop", out_name="o2")
    assert "title" not in rows[0] and "in_title" not in rows[0]


def test_a_field_of_mixed_json_types_becomes_json_text_not_an_error(tmp_path):
    a = pa.table({"id": ["1"], "rank": pa.array([3], pa.int64())})
    b = pa.table({"id": ["2"], "rank": ["third"]})
    c = pa.table({"id": ["3"]})
    t = concat([a, b, c])
    assert t.column("rank").to_pylist() == ["3", "third", None]
    assert json.loads(t.column("rank")[0].as_py()) == 3
