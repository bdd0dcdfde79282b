"""The built-in stages on small written examples and on the real shared data."""

import json
import re

import pyarrow as pa

from mdfs.config import load_config
from mdfs.stage import REJECT, StageContext
from mdfs.stages.coarse import CoarseFilter
from mdfs.stages.collection import Collection
from mdfs.stages.dedup import ExactDedup
from mdfs.stages.fine import FineFilter
from mdfs.stages.quality import QualityFilter

from .conftest import CLEAN, shared


def table(texts, **cols):
    return pa.table({"id": pa.array([f"d{i}" for i in range(len(texts))], pa.string()),
                     "text": pa.array(texts, pa.string()), **cols})


def ctx(name="s"):
    return StageContext(name, "part-00000")


def reasons(batch):
    return batch.column(REJECT).to_pylist()


def test_coarse_scores_then_decides():
    stage = CoarseFilter("coarse", CoarseFilter.Params(min_chars=10, min_chinese_ratio=0.5))
    out = stage.process(table(["太短了", CLEAN[0], "Mostly English text with 一点中文 inside it"]), ctx())
    assert reasons(out) == ["too_short", None, "low_chinese_ratio"]
    assert out.column("coarse__chars").to_pylist()[0] == 3
    assert out.column("coarse__zh_ratio").to_pylist()[1] > 0.8
    empty = stage.process(table([]), ctx())
    assert empty.num_rows == 0 and "coarse__zh_ratio" in empty.column_names


def test_fine_length_gate():
    stage = FineFilter("fine", FineFilter.Params(min_chars=5))
    stage.setup()
    out = stage.process(table(["一二三", "一二三四五六"]), ctx())
    assert reasons(out) == ["too_short_final", None]


def test_collection_normalises_and_converts():
    stage = Collection("collection", Collection.Params(keep_original=True))
    stage.setup()
    c = ctx()
    out = stage.process(table(["ＡＢＣ，憂鬱的臺灣烏龜。", "简体中文不变。"]), c)
    assert out.column("text").to_pylist() == ["ABC，忧郁的台湾乌龟。", "简体中文不变。"]
    assert out.column("collection__converted").to_pylist() == [True, False]
    assert out.column("text_original").to_pylist()[0].startswith("ＡＢＣ")
    assert c.counters["converted_to_simplified"] == 1


def test_collection_matches_opencc_reference_cases():
    text = shared("opencc", "testcases.json").read_text(encoding="utf-8")
    cases = json.loads(re.sub(r",(\s*[\]}])", r"\1", text))["cases"]  # the file has trailing commas
    checked = 0
    for config in ("t2s", "tw2s", "hk2s"):
        # isolated words, not documents: language ID (which gates OpenCC) is off for this table
        stage = Collection("collection", Collection.Params(opencc=config, normalize=False, lang_id=False))
        stage.setup()
        todo = [c for c in cases if config in c["expected"]]
        out = stage.process(table([c["input"] for c in todo]), ctx())
        assert out.column("text").to_pylist() == [c["expected"][config] for c in todo]
        checked += len(todo)
    assert checked >= 10


def test_quality_scores_with_a_real_model(tiny_model):
    stage = QualityFilter("quality", QualityFilter.Params(model=str(tiny_model), threshold=0.5))
    stage.setup()
    out = stage.process(table([CLEAN[1] + CLEAN[2], "加微信领取优惠点击购买立即下单代理加盟"]), ctx())
    score = out.column("quality__score").to_pylist()
    assert score[0] > 0.5 > score[1]
    assert reasons(out) == [None, "low_quality"]


def test_bundled_quality_model_separates_prose_from_ads():
    stage = QualityFilter("quality")
    stage.setup()
    good = "这座城市始建于明代，因运河而兴。清朝中叶，这里成为南北货物的集散地，商号林立，会馆众多。"
    ads = "加微信领取优惠券！代理加盟，月入过万，点击购买，扫码关注，联系电话 138-0000-0000，限时特价。"
    s = stage.score([good * 3, ads * 3])
    assert s[0] > 0.8 and s[1] < 0.2


def test_dedup_keep_policy_and_buckets():
    stage = ExactDedup("dedup", ExactDedup.Params(buckets=4))
    texts = ["同一篇文章。", "同一篇 文章", "另一篇文章。", "同一篇文章。。"]
    batch = table(texts, quality__score=pa.array([0.2, 0.9, 0.5, 0.9], pa.float32()))
    keys = stage.keys(batch, ctx())
    assert keys.num_rows == 4 and set(keys.column("__bucket").to_pylist()) <= {0, 1, 2, 3}
    keys = keys.append_column("shard", pa.array([0] * 4, pa.int32())).append_column("row", pa.array(range(4)))
    c = ctx()
    out = stage.resolve(keys.drop_columns(["__bucket"]), c)
    # the 0.9 copies win; between them the longer one
    assert sorted(out.column("row").to_pylist()) == [0, 1]
    assert set(out.column("detail").to_pylist()) == {"kept=d3"}
    assert c.counters["clusters"] == 1 and c.counters["cluster_size_3"] == 1


def test_wiki_paragraphs_through_the_default_recipe(tmp_path):
    import mdfs
    import opencc

    wiki = shared("wiki-zh")
    cfg = load_config(None, ["engine.kind=serial"], {"input": {"paths": [str(wiki / "*.jsonl")]},
                                                     "output": {"path": str(tmp_path / "out")}})
    s = mdfs.run(cfg, progress=False)
    assert s.docs_in == 1104 + 2000 and s.stages["read"].docs_out == s.docs_in
    assert s.docs_out / s.docs_in > 0.9  # clean encyclopedic prose survives the whole default recipe
    import pyarrow.dataset as ds

    rows = ds.dataset(str(tmp_path / "out" / "data")).to_table(columns=["source", "text"]).to_pylist()
    hant = "".join(r["text"] for r in rows if r["source"].startswith("drcd"))
    t2s = opencc.OpenCC("t2s")
    traditional_left = sum(1 for ch in set(hant) if t2s.convert(ch) != ch)
    assert len(hant) > 200_000 and traditional_left / len(set(hant)) < 0.005
