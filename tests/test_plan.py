"""The compiled plan, typed tasks through one worker, and typed stage stats."""

import pickle

import pyarrow as pa

import mdfs
from mdfs import plan as plan_module
from mdfs.config import load_config, validate
from mdfs.inputs import Shard
from mdfs.plan import compile_plan
from mdfs.stats import RunStats, StageStats
from mdfs.tasks import PhaseTask, ShardTask
from mdfs.worker import Worker

from .conftest import CLEAN, write_jsonl


def test_a_serial_run_builds_each_stage_once(tmp_path, monkeypatch):
    built = []
    real = plan_module.build_stage

    def counting(spec, index):
        built.append(spec.name)
        return real(spec, index)

    monkeypatch.setattr(plan_module, "build_stage", counting)
    write_jsonl(tmp_path / "in" / "x.jsonl", [{"id": f"d{i}", "text": t} for i, t in enumerate(CLEAN)])
    cfg = validate({"input": {"paths": [str(tmp_path / "in")]}, "output": {"path": str(tmp_path / "out")},
                    "engine": {"kind": "serial"},
                    "stages": [{"name": "coarse", "with": {"min_chars": 5}}, {"name": "dedup"},
                               {"name": "fine", "with": {"min_chars": 5}}]})
    summary = mdfs.run(cfg, progress=False, report=False)
    assert sorted(built) == ["coarse", "dedup", "fine"]  # driver and worker share the one plan
    assert summary.conservation.ok and summary.docs_out == len(CLEAN)


def test_a_shipped_plan_rebuilds_its_own_stages():
    plan = compile_plan(load_config(None))
    copy = pickle.loads(pickle.dumps(plan))
    assert copy.order() == plan.order() and copy.order()[0] == "read"
    assert [s.name for s in copy.stages] == [s.name for s in plan.stages]
    assert all(a.stage is not b.stage for a, b in zip(copy.stages, plan.stages))
    assert [s.name for s in copy.global_stages()] == ["boilerplate", "dedup"]


def test_every_global_phase_carries_its_function():
    plan = compile_plan(load_config(None))
    for planned in plan.global_stages():
        phases = plan.phases(planned.name, shards=3)
        assert phases and all(callable(p.run) for p in phases), planned.name


def test_tasks_are_small_and_describe_themselves(tmp_path):
    layout = Worker(compile_plan(load_config(None)), str(tmp_path)).layout
    phase = PhaseTask("dedup", "ids", 2, 5)
    assert pickle.loads(pickle.dumps(phase)) == phase
    assert phase.describe() == "stage dedup, phase ids, item 2" and phase.breadcrumb(layout) is None
    shard = ShardTask(1, Shard(3))
    assert shard.describe().startswith("shard part-00003 (segment 1")
    assert shard.breadcrumb(layout) == layout.breadcrumb(1, 3)


def test_stage_stats_merge_and_keep_their_json_layout():
    a = StageStats(docs_in=3, docs_out=2, chars_in=30, chars_out=20, reasons={"x": 1}, counters={"n": 1.5},
                   seconds=0.5)
    b = StageStats(docs_in=2, docs_out=0, reasons={"x": 1, "y": 1}, notes={"warnings": {"k": "m"}})
    merged = StageStats().merge(a).merge(b)
    assert (merged.docs_in, merged.docs_out, merged.rejected, merged.reasons) == (5, 2, 3, {"x": 2, "y": 1})
    assert merged.conserved and not StageStats(docs_in=1).conserved
    layout = {"docs_in", "docs_out", "chars_in", "chars_out", "reasons", "counters", "seconds"}
    assert set(a.to_json()) == layout
    assert StageStats.from_json(merged.to_json()) == merged
    run = RunStats().merge({"s": a}).merge({"s": b, "t": StageStats(docs_in=1, docs_out=1)})
    assert list(run.ordered(["t", "s"])) == ["t", "s"] and run["s"].docs_in == 5


def test_stage_stats_count_documents_and_characters():
    st = StageStats()
    table = pa.table({"text": ["一二三", "四五"]})
    st.took_in(table)
    st.kept(table.slice(0, 1))
    st.rejected_for(["short"])
    assert (st.docs_in, st.chars_in, st.docs_out, st.chars_out, st.reasons) == (2, 5, 1, 3, {"short": 1})


def _run_plugin_stage(tmp_path, name: str, uses: str):
    """Small shards of clean documents through one plugin stage, serially: (documents, run summary)."""
    docs = [{"id": f"d{i:02d}", "text": t} for i, t in enumerate(CLEAN * 3)]
    write_jsonl(tmp_path / "in" / "x.jsonl", docs)
    cfg = validate({"input": {"paths": [str(tmp_path / "in")], "shard_size_mb": 0.001},
                    "output": {"path": str(tmp_path / "out")}, "engine": {"kind": "serial"},
                    "stages": [{"name": name, "uses": uses}]})
    return docs, mdfs.run(cfg, progress=False, report=False)


def test_a_global_stage_written_for_run_phase_still_runs(tmp_path):
    docs, summary = _run_plugin_stage(tmp_path, "old", "tests.plugins:OldStyleDropFirst")
    shards = len(list((tmp_path / "out" / "data").glob("*.parquet")))
    assert shards > 1 and summary.stages["old"].reasons == {"first": shards}
    assert summary.docs_out == len(docs) - shards


def test_edits_reach_an_apply_edits_bound_on_the_instance(tmp_path):
    docs, summary = _run_plugin_stage(tmp_path, "ed", "tests.plugins:EditsChosenAtSetup")
    assert summary.stages["ed"].counters.get("edits_seen") == len(docs) == summary.docs_out
