"""What a new user meets first: the list of stages, every config problem at once, a quick look with
--limit."""

from __future__ import annotations

import json

import pytest

import mdfs
from mdfs.cli import main
from mdfs.config import load_config
from mdfs.errors import ConfigError
from mdfs.plan import compile_plan
from mdfs.registry import BUILTIN_STAGES

from .conftest import ROOT, TINY, make_docs, write_jsonl


def test_stages_lists_every_builtin_with_its_parameters(capsys):
    assert main(["stages", "--json"]) == 0
    infos = {i["name"]: i for i in json.loads(capsys.readouterr().out)}
    assert set(infos) == set(BUILTIN_STAGES) and infos["dedup"]["global"] and not infos["coarse"]["global"]
    params = {p["name"]: p for p in infos["dedup"]["params"]}
    assert params["near.threshold"]["default"] == 0.7 and "Jaccard" in params["near.threshold"]["description"]
    assert params["buckets"]["type"] == "int"
    assert main(["stages", "quality"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("quality  (stage, mdfs.stages.quality:QualityFilter)") \
        and "drop: dict[str, float]" in text
    assert main(["stages", "nope"]) == 2


def test_every_config_problem_is_reported_at_once_with_file_and_stage(capsys):
    cfg = load_config(ROOT / "configs" / "zh_web.yaml", ["stages.coarse.min_chars=-5", "stages.fine.bogus=1",
                                                        "stages.quality.hooks={after: ['nope.mod:fn']}"])
    with pytest.raises(ConfigError) as err:
        compile_plan(cfg)
    text = str(err.value)
    assert text.startswith(f"{ROOT / 'configs' / 'zh_web.yaml'}: 3 problems")
    fine = [s.name for s in cfg.stages].index("fine")
    for part in ("stage 'coarse'", "stages[1].with.min_chars", "stage 'fine'", f"stages[{fine}].with.bogus",
                 "stage 'quality'", "cannot import nope.mod"):
        assert part in text
    assert main(["validate", str(ROOT / "configs" / "zh_web.yaml"), "--set", "stages.fine.bogus=1"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_limit_reads_a_deterministic_sample_spread_over_the_input(tmp_path, tiny_model):
    for i in range(4):
        write_jsonl(tmp_path / "in" / f"f{i}.jsonl", make_docs(400, f"f{i}"))
    sets = [f"stages.quality.model={tiny_model}", "input.shard_size_mb=0.05", "input.limit=1000"]
    a = mdfs.run(str(TINY), str(tmp_path / "in"), str(tmp_path / "a"), overrides=sets, engine="serial",
                 progress=False, report=False)
    b = mdfs.run(str(TINY), str(tmp_path / "in"), str(tmp_path / "b"), overrides=sets, engine="ray",
                 workers=2, progress=False, report=False)
    assert a.docs_in == b.docs_in == 1000 and a.docs_out == b.docs_out
    import pyarrow.dataset as ds

    ids = [ds.dataset(str(tmp_path / "a" / sub)).to_table(columns=["id"]).column("id").to_pylist()
           for sub in ("data", "rejects")]
    assert {i[:2] for i in ids[0] + ids[1]} == {"f0", "f1", "f2", "f3"}  # every file, not the first only
