"""The per-document layer (mdfs.docfilter), the README's ten-line filter through `mdfs run`, and the
column declarations `mdfs validate` checks."""

import re
import sys
from typing import ClassVar

import pyarrow as pa
import pytest

from mdfs.cli import main
from mdfs.config import ConfigError, validate
from mdfs.docfilter import DocFilter
from mdfs.plan import compile_plan
from mdfs.stage import REJECT, REJECT_DETAIL, Stage, StageContext

from .conftest import CLEAN, ROOT, read_dir, write_jsonl

README = (ROOT / "README.md").read_text(encoding="utf-8")


class Shouting(DocFilter):
    """A test filter: scores the share of exclamation marks, drops by a bare False or with a reason."""

    reads = ("text", "url")
    scores = ("bangs",)

    def score(self, text, doc):
        return {"bangs": text.count("!") / max(1, len(text))}

    def keep(self, doc, scores):
        if doc["url"] == "spam":
            return False
        return scores["bangs"] < 0.5 or (False, "shouting", f"bangs={scores['bangs']:.2f}")


class Scratch(Stage):
    """Leaves an internal scratch column behind: it must not reach the corpus."""

    def process(self, batch, ctx):
        return batch.append_column("__scratch", pa.array([1] * batch.num_rows))


class ReadsQuality(DocFilter):
    reads: ClassVar = ("text", "quality__score")


class ReadsTitle(DocFilter):
    reads: ClassVar = ("text", "title")


def test_scores_become_float32_columns_and_drops_carry_reason_and_detail():
    batch = pa.table({"id": ["a", "b", "c"], "text": ["好的。", "!!!!", "好"], "url": [None, None, "spam"]})
    out = Shouting("loud").process(batch, StageContext("loud", "part-00000"))
    assert out.schema.field("loud__bangs").type == pa.float32()
    assert out.column("loud__bangs").to_pylist() == [0.0, 1.0, 0.0]
    assert out.column(REJECT).to_pylist() == [None, "shouting", "rejected"]
    assert out.column(REJECT_DETAIL).to_pylist() == [None, "bangs=1.00", None]


def test_undeclared_score_is_refused_naming_it():
    class Sloppy(DocFilter):
        def score(self, text, doc):
            return {"length": len(text)}

    with pytest.raises(ValueError, match="'length'"):
        Sloppy("s").process(pa.table({"id": ["a"], "text": ["x"]}), StageContext("s", "part-00000"))


def test_readme_ten_line_filter_runs_through_mdfs_run(tmp_path, monkeypatch):
    section = README.split("## Your own filter in ten lines", 1)[1].split("\n## ", 1)[0]
    code = re.findall(r"```python\n(.+?)```", section, flags=re.DOTALL)[0]
    assert len(code.strip().splitlines()) <= 12  # about ten lines, as the README says
    (tmp_path / "readme_digits.py").write_text(code, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    recipe = re.findall(r"```yaml\n(.+?)```", section, flags=re.DOTALL)[0]
    recipe = recipe.replace("mypkg.filters", "readme_digits")
    (tmp_path / "recipe.yaml").write_text(recipe, encoding="utf-8")
    digits = "今年的开奖号码如下：" + "，".join(f"{n:08d}" for n in range(12, 300, 13)) + "。"
    docs = [{"id": "clean", "text": CLEAN[0]}, {"id": "digits", "text": digits}]
    write_jsonl(tmp_path / "in" / "x.jsonl", docs)
    code = main(["run", str(tmp_path / "recipe.yaml"), "-i", str(tmp_path / "in"),
                 "-o", str(tmp_path / "out"), "--engine", "serial", "--no-progress", "--no-report"])
    assert code == 0
    kept = read_dir(tmp_path / "out" / "data")
    assert [r["id"] for r in kept] == ["clean"] and kept[0]["digits__digit_share"] == 0.0
    [rejected] = read_dir(tmp_path / "out" / "rejects" / "digits")
    assert (rejected["id"], rejected["reason"]) == ("digits", "digits")
    assert rejected["detail"].startswith("digit_share=") and rejected["digits__digit_share"] > 0.3
    sys.modules.pop("readme_digits", None)


def test_validate_names_the_stage_that_reads_a_column_nobody_writes():
    stages = [{"name": "collection"}, {"name": "picky", "uses": "tests.test_docfilter:ReadsQuality"}]
    with pytest.raises(ConfigError, match="stage 'picky' reads quality__score, which no earlier stage"):
        compile_plan(validate({"stages": stages}))
    ok = [{"name": "quality"}, {"name": "picky", "uses": "tests.test_docfilter:ReadsQuality"}]
    compile_plan(validate({"stages": ok}))  # quality writes quality__* before picky reads it


def test_plain_input_columns_are_checked_when_the_input_fields_are_listed():
    stages = [{"name": "titled", "uses": "tests.test_docfilter:ReadsTitle"}]
    compile_plan(validate({"stages": stages}))  # input.metadata: keep, any input field may be there
    compile_plan(validate({"stages": stages, "input": {"metadata": ["title"]}}))
    with pytest.raises(ConfigError, match="stage 'titled' reads title, which no earlier stage writes"):
        compile_plan(validate({"stages": stages, "input": {"metadata": ["licence"]}}))


def test_internal_columns_never_reach_the_corpus(tmp_path):
    write_jsonl(tmp_path / "in" / "x.jsonl", [{"id": "a", "text": CLEAN[1]}])
    cfg = validate({"stages": [{"name": "scratch", "uses": "tests.test_docfilter:Scratch"}],
                    "input": {"paths": [str(tmp_path / "in")]}, "output": {"path": str(tmp_path / "out")},
                    "engine": {"kind": "serial"}})
    import mdfs

    mdfs.run(cfg, progress=False, report=False)
    assert [c for r in read_dir(tmp_path / "out" / "data") for c in r if c.startswith("__")] == []
