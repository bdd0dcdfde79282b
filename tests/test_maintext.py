"""Main text: `mdfs eval --gold` on a real (tiny) run, and the extractor fallback on a real forum page."""

from __future__ import annotations

import json
import re

import pytest

import mdfs
from mdfs.charmetric import Overlap
from mdfs.cli import main
from mdfs.evaluate_maintext import evaluate_maintext

from .conftest import CLEAN, shared, write_jsonl

RECIPE = """
stages:
  - name: collection
  - name: coarse
    with: {min_chars: 30, min_chinese_ratio: 0.2}
"""
JUNK = "欢迎大家多多支持我们的网站"          # not in the gold, no rule removes it: boilerplate left
FOOTER = "版权所有 © 2024 某某网 京ICP备12345678号"  # removed by line cleaning


def _chars(text: str) -> int:
    return len(re.sub(r"\s+", "", text))


@pytest.fixture
def run_dir(tmp_path):
    article = "\n".join(CLEAN[:3])
    forum = "\n".join(CLEAN[3:])
    docs = [{"id": "art", "text": f"{article}\n{JUNK}\n{FOOTER}"},  # gold + one junk line + a footer
            {"id": "forum", "text": forum},                         # exactly its gold
            {"id": "short", "text": "太短了"}]                       # dropped by coarse (too_short)
    write_jsonl(tmp_path / "in" / "docs.jsonl", docs)
    gold = [{"id": "art", "type": "article", "set": "t", "split": "test", "text": article},
            {"id": "forum", "type": "forum", "set": "t", "split": "train", "text": forum},
            {"id": "short", "type": "forum", "set": "t", "split": "train", "text": CLEAN[4]},
            {"id": "absent", "type": "article", "set": "t", "split": "test", "text": CLEAN[0]}]
    write_jsonl(tmp_path / "gold.jsonl", gold)
    (tmp_path / "recipe.yaml").write_text(RECIPE, encoding="utf-8")
    mdfs.run(str(tmp_path / "recipe.yaml"), str(tmp_path / "in"), str(tmp_path / "run"), engine="serial",
             progress=False, report=False)
    return tmp_path


def test_gold_eval_scores_kept_text_per_type(run_dir):
    res = evaluate_maintext(str(run_dir / "run"), str(run_dir / "gold.jsonl"))
    pages = {p["id"]: p for p in res["pages"]}
    gold, junk = _chars("".join(CLEAN[:3])), _chars(JUNK)
    art = pages["art"]
    assert art["kept"] and art["gold_chars"] == gold and art["chars"] == gold + junk  # the footer was cut
    assert art["r"] == 1.0 and art["p"] == pytest.approx(gold / (gold + junk))
    assert art["boilerplate_chars"] == junk
    assert pages["forum"]["f1"] == 1.0
    short = pages["short"]
    assert not short["kept"] and short["f1"] == 0 \
        and (short["stage"], short["reason"]) == ("coarse", "too_short")
    assert res["missing"] == ["absent"]
    types = {r["type"]: r for r in res["types"]}
    assert types["forum"]["pages"] == 2 and types["forum"]["dropped"] == 1 and types["forum"]["f1"] == 0.5
    assert types["article"]["boilerplate_share"] == pytest.approx(junk / (gold + junk), abs=1e-4)
    assert types["all"]["pages"] == 3


def test_gold_eval_cli_split_and_json(run_dir, capsys):
    out = run_dir / "eval.json"
    assert main(["eval", str(run_dir / "run"), "--gold", str(run_dir / "gold.jsonl"), "--split", "train",
                 "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "short [forum] coarse/too_short" in printed
    res = json.loads(out.read_text())
    assert {p["id"] for p in res["pages"]} == {"forum", "short"}
    assert main(["eval", str(run_dir / "run")]) == 2  # neither --labels nor --gold


def test_bench_and_eval_share_one_metric():
    from tools.bench import extraction

    assert extraction.prf is mdfs.charmetric.prf
    o = Overlap.of("甲乙乙丙 丁", "甲乙丙丙")
    assert (o.text, o.gold, o.common, o.boilerplate) == (5, 4, 3, 2)


# -- the fallback extractor on a real forum page ---------------------------------------------------
PAOPAO = "20373e03defc0ad0"  # a paopao.info thread (tuning side): trafilatura's precision mode finds nothing


def test_fallback_keeps_a_forum_page_the_extractor_empties():
    from mdfs.stages.collection import Collection
    from mdfs.stages.collection.charset import decode_page

    folder = shared("html-zh", "magic-html", "forum")
    key = next(k for k in json.loads((folder / "groundtruth.json").read_text()) if k.startswith(PAOPAO))
    gold = json.loads((folder / "groundtruth.json").read_text())[key]["content"]
    html = decode_page((folder / f"{key}.html").read_bytes()).text
    # trafilatura's precision mode is the extractor that empties pages (its recall mode, the default, empties
    # none of the gold pages); the fallback is what keeps them
    with_fallback = Collection("collection", Collection.Params(extractor="trafilatura_precision"))
    without = Collection("collection",
                         Collection.Params(extractor="trafilatura_precision", fallback_extractor=None,
                                                         lang_id=False))
    for s in (with_fallback, without):
        s.setup()
    assert with_fallback.extract(html).strip() == ""  # the primary extractor empties the page
    text, used = with_fallback.main_text(html)
    assert used and Overlap.of(text, gold).f1 > 0.7
    doc = with_fallback.document(None, html.encode(), "utf-8", "text/html")
    assert doc.reason is None and doc.fallback and doc.lang == "zh"
    assert without.document(None, html.encode(), "utf-8", "text/html").reason == "no_text"
