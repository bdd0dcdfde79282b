"""Cross-page boilerplate: the line rules, the edit path through the framework (serial = Ray, resume), and
real pages of multi-page sites (`web-pages/gne`)."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pyarrow as pa
import pytest

import mdfs
from mdfs.errors import StageError
from mdfs.lineedits import cut_lines, split_lines
from mdfs.stages.boilercuts import choose_cuts
from mdfs.stages.boilerplate import (
    Boilerplate,
    corpus_rule,
    hash_keys,
    line_counts,
    line_keys,
    line_stats,
    page_versions,
    site_names,
    site_rule,
)

from .conftest import CLEAN, crash_when, read_dir, shared, write_jsonl

NAV = ["首页", "新闻", "体育", "财经", "登录 | 注册"]
FOOT = ["关于我们 | 联系我们 | 广告服务", "Copyright © 2024 示例网 版权所有", "京ICP备12345678号"]


def page(site: str, i: int, body: list[str]) -> dict:
    """A page of `site`: navigation, a share widget with a counter, the body, a footer."""
    lines = NAV + ["当前位置：首页 > 新闻 > 正文", body[0], "分享到：", "微信",
                   f"评论 {i * 37 % 1000}"] + body[1:] + FOOT
    return {"id": f"{site}-{i:02d}", "text": "\n".join(lines), "url": f"https://{site}/a/{i}.html"}


def w(i: int) -> str:
    """A distinct word per number, in letters (digits normalise to 0: '第3篇' and '第4篇' are one line)."""
    return "".join("甲乙丙丁戊己庚辛壬癸"[int(d)] for d in str(i))


def body(i: int) -> list[str]:
    """A distinct article: a title and three paragraphs built from the clean sentences."""
    return [f"{w(i)}号新闻标题", f"第{w(i)}段。" + CLEAN[i % 5] + CLEAN[(i + 1) % 5], CLEAN[(i + 2) % 5]
            + f"编号{w(i)}。",
            CLEAN[(i + 3) % 5] + f"（第{w(i)}篇）"]


def site_corpus(sites: int = 4, pages: int = 6) -> list[dict]:
    docs = [page(f"s{s}.example.cn", s * 100 + i, body(s * 100 + i)) for s in range(sites)
            for i in range(pages)]
    # an interview: "答：" and "问：" five times inside one article, on one page only
    inter = body(999)
    inter[2:2] = ["问：", "你好吗？", "答：", "很好。"] * 5
    docs.append(page("s0.example.cn", 99, inter))
    # a page that is nothing but the template: rejected whole, text kept
    docs.append({"id": "s1.example.cn-empty", "text": "\n".join(NAV + FOOT), "url": "https://s1.example.cn/x"})
    return docs


# -- the rules -----------------------------------------------------------------------------------------------
def test_line_keys_normalise_whitespace_digits_and_case():
    keys, sentence = line_keys(pa.array(["关注数 6414", "关注数12", "Copyright ABC", "copyright  abc",
                                         "是的。"]))
    k = keys.to_pylist()
    assert k[0] == k[1] == "关注数0" and k[2] == k[3] == "copyrightabc"
    assert sentence.to_pylist() == [False, False, False, False, True]
    h = hash_keys(keys)
    assert h[0] == h[1] and h[2] == h[3] and h[0] != h[2] and (h != 0).all()


def test_split_and_cut_lines_are_byte_exact():
    texts = pa.array(["a\nb\nc", "x\ny", None, "q\n\nr", ""])
    lines = split_lines(texts)
    assert lines.row.tolist() == [0, 0, 0, 1, 1, 2, 3, 3, 3, 4] and lines.line.tolist()[:5] == [0, 1, 2, 0, 1]
    res = cut_lines(texts, np.array([0, 0, 3, 0, 1, 9]), np.array([1, 1, 2, 5, 0, 0]),
                    ["site", "corpus", "site", "site", "corpus", "site"])
    assert res.texts.to_pylist() == ["a\nc", "y", None, "q\n", ""]  # rows without cuts: unchanged
    assert res.cut_text.to_pylist() == ["b", "x", None, "r", None]
    assert res.cut_lines.tolist() == [1, 1, 0, 1, 0]
    assert res.kinds == {"site": 2, "corpus": 1}  # a line named twice counts once, by its first kind


def occurrences(pages: dict[int, list[str]], site: int = 7) -> pa.Table:
    """The map's rows for pages of one site: {page id: lines}."""
    rows = [(p, i, line) for p, lines in pages.items() for i, line in enumerate(lines)]
    keys, sentence = line_keys(pa.array([r[2] for r in rows]))
    hashes = hash_keys(keys)
    version = page_versions(np.array([r[0] for r in rows], np.int64), hashes)
    return pa.table({"site": pa.array([site] * len(rows), pa.int64()), "hash": pa.array(hashes, pa.int64()),
                     "version": pa.array(version, pa.int64()),
                     "page": pa.array([r[0] for r in rows], pa.int64()),
                     "line": pa.array([r[1] for r in rows], pa.int32()),
                     "prose": pa.array([len(r[2]) >= 40 and s for r, s in zip(rows, sentence.to_pylist())]),
                     "sentence": sentence, "numeric": pa.array([r[2].isdigit() for r in rows])})


def cut_of(pages: dict[int, list[str]], **kw) -> dict[int, list[str]]:
    occ = occurrences(pages)
    template = site_rule(line_stats(occ), kw.get("min_pages", 2), kw.get("min_share", 0.5),
                         kw.get("block_share", 0.1), kw.get("copy_prose_lines", 3))
    empty = pa.table({"hash": pa.array([], pa.int64())})
    edits = choose_cuts(occ, template, kw.get("frequent", empty), True)
    out: dict[int, list[str]] = {p: [] for p in pages}
    for row, line in zip(edits.column("row").to_pylist(), edits.column("line").to_pylist()):
        out[row].append(pages[row][line])
    return out


def test_site_rule_counts_a_line_once_per_page():
    # "答：" five times on one page is on one page: never template; the footer on 4 of 4 pages is
    pages = {p: ["导航", f"文章{w(p)}第一段。", "答：", "回答。", "答：", "答：", "答：", "答：", "页脚"]
             if p == 0
             else ["导航", f"文章{w(p)}第一段。", f"文章{w(p)}第二段。", "页脚"] for p in range(4)}
    cut = cut_of(pages)
    assert all(c == ["导航", "页脚"] for c in cut.values())


def test_isolated_recurring_line_inside_running_text_is_kept():
    # "01" and "谢谢！" recur on 3 of 4 pages but sit between sentences; the labels between headlines go
    pages = {p: ["导航", f"第{w(p)}篇的开头一句。", "01", f"第{w(p)}篇的第二句。", "谢谢！",
                 f"第{w(p)}篇的结尾。",
                 f"相关{w(p)}甲", "新闻", f"相关{w(p)}乙", "新闻", f"相关{w(p)}丙", "页脚"] for p in range(3)}
    pages[3] = ["导航", "另一篇。", "相关丁甲", "新闻", "相关丁乙", "页脚"]
    cut = cut_of(pages)
    assert all("01" not in c and "谢谢！" not in c for c in cut.values())
    assert all(c.count("新闻") == 2 and "导航" in c and "页脚" in c for p, c in cut.items() if p < 3)


def test_a_line_on_few_pages_goes_only_inside_a_block():
    # 10 pages; a list-page template on 2 of them (a block), a sign-off on 2 of them beside article text
    pages = {p: ["导航", f"正文{w(p)}。", "（完）" if p in (1, 2) else f"结语{w(p)}。", "页脚"]
             for p in range(8)}
    pages[8] = ["导航", "列表页", "上一页", "下一页", "条目甲", "页脚"]
    pages[9] = ["导航", "列表页", "上一页", "下一页", "条目乙", "页脚"]
    cut = cut_of(pages)
    assert cut[8] == cut[9] == ["导航", "列表页", "上一页", "下一页", "页脚"]
    assert "（完）" not in cut[1] + cut[2]


def test_prose_and_copies_of_one_story_are_kept():
    story = ["本市今天上午举行了一场盛大的文化活动，吸引了来自全国各地的数万名游客前来参观游览。",
             "活动现场人头攒动，各类展台前都排起了长队，许多家长带着孩子一起体验传统手工艺的制作。",
             "短标题", "图：现场",
             "组委会表示，明年还将继续举办同类活动，并进一步扩大规模，增加更多适合家庭的互动体验项目。"]
    pages = {p: ["导航"] + (story if p < 3 else [f"别的文章{w(p)}。"]) + [f"网友{w(p)}的留言", "页脚"]
             for p in range(6)}
    cut = cut_of(pages)
    # the same story on pages 0–2 (3 of 6, not exact copies: the comments differ): its short lines stay with
    # it; the template goes
    assert all(c == ["导航", "页脚"] for c in cut.values())
    assert "短标题" in cut_of(pages, copy_prose_lines=0)[0]


def test_exact_copies_of_a_page_count_once():
    # the same page at three addresses is one page: a site of copies has no template
    same = ["导航", "短标题", "图：现场", "正文一句。", "页脚"]
    assert all(c == [] for c in cut_of({p: same for p in range(3)}).values())
    # two copies among other pages: their own lines are on one page, the template on all four
    pages = {0: same, 1: same, 2: ["导航", "别的正文甲。", "页脚"], 3: ["导航", "别的正文乙。", "页脚"]}
    assert all(c == ["导航", "页脚"] for c in cut_of(pages).values())


def test_corpus_rule_needs_pages_and_sites():
    occ = pa.concat_tables([occurrences({p: ["分享到微博", f"独有{w(s)}{w(p)}"] for p in range(3)}, site=s)
                            for s in range(1, 5)])
    occ = occ.set_column(3, "page", pa.array(np.arange(occ.num_rows) // 2, pa.int64()))
    occ = occ.set_column(2, "version", occ.column("page"))
    frequent = corpus_rule(line_counts(occ), min_pages=10, min_sites=4)
    assert frequent.num_rows == 1 and frequent.column("pages").to_pylist() == [12]
    assert corpus_rule(line_counts(occ), min_pages=10, min_sites=5).num_rows == 0


def test_sites_from_domain_url_or_the_chosen_fallback():
    t = pa.table({"domain": ["WWW.A.cn", None, None], "url": [None, "https://b.cn/x", None],
                  "source": ["x.jsonl", "x.jsonl", "mirror/c.cn/p1.html"]})
    assert site_names(t, "skip") == ["a.cn", "b.cn", None]
    assert site_names(t, "directory")[2] == "dir:mirror/c.cn"
    assert site_names(t, "source")[2] == "file:mirror/c.cn/p1.html"


# -- through the pipeline ------------------------------------------------------------------------------------
def bp_config(tmp_path, **params) -> str:
    cfg = {"input": {"shard_size_mb": 0.004}, "output": {"keep_rejected_text": True},
           "stages": [{"name": "boilerplate", "with": {"buckets": 3, **params}}]}
    path = tmp_path / "bp.yaml"
    path.write_text(json.dumps(cfg))
    return str(path)


@pytest.fixture(scope="module")
def sites_input(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sites") / "in"
    docs = site_corpus()
    write_jsonl(folder / "a.jsonl", docs[: len(docs) // 2])
    write_jsonl(folder / "b.jsonl", docs[len(docs) // 2:])
    return folder, docs


@pytest.fixture(scope="module")
def serial_ref(sites_input, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ref")
    s = mdfs.run(bp_config(tmp), str(sites_input[0]), str(tmp / "out"), engine="serial", progress=False)
    return tmp / "out", s


def test_template_lines_cut_article_lines_kept(sites_input, serial_ref):
    docs = {d["id"]: d["text"] for d in sites_input[1]}
    out, s = serial_ref
    assert s.shards_run > 2 and s.docs_in == len(docs) == s.docs_out + 1
    kept = {r["id"]: r for r in read_dir(out / "data")}
    for doc, row in kept.items():
        lines = row["text"].split("\n")
        assert not set(lines) & set(NAV + FOOT + ["分享到：", "微信"]), doc
        cut = row["boilerplate__cut"].split("\n")
        assert [line for line in docs[doc].split("\n") if line not in cut] == lines
        assert row["boilerplate__cut_lines"] == len(row["boilerplate__cut"].split("\n"))
        assert not any(line.startswith("评论") for line in lines)  # the counter normalises to one line
    interview = kept["s0.example.cn-99"]["text"]
    assert interview.count("答：") == 5 and interview.count("问：") == 5 and "你好吗？" in interview
    for doc, row in kept.items():  # every article line of every page survives
        number = 999 if doc == "s0.example.cn-99" else int(doc.split("-")[1])
        assert all(line in row["text"].split("\n") for line in body(number)), doc
    rej = read_dir(out / "rejects" / "boilerplate")
    assert [(r["id"], r["reason"]) for r in rej] == [("s1.example.cn-empty", "boilerplate_only")]
    assert rej[0]["text"] == docs["s1.example.cn-empty"] and "s1.example.cn" in rej[0]["detail"]
    st = s.stages["boilerplate"]
    c = st.counters
    assert c["cut_lines_site"] == sum(r["boilerplate__cut_lines"] for r in kept.values())  # applied cuts only
    assert c["cut_lines_corpus"] == 0 and c["cut_chars_site"] > 0 and c["template_lines"] > 0
    assert st.chars_in > st.chars_out
    assert not (out / "_work").exists()


def _digests(folder) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*.parquet"))}


@pytest.mark.slow
def test_ray_output_is_byte_identical_to_serial(sites_input, serial_ref, tmp_path):
    out = tmp_path / "out"
    mdfs.run(bp_config(tmp_path), str(sites_input[0]), str(out), engine="ray", workers=2, progress=False)
    ref = serial_ref[0]
    for sub in ("data", "rejects"):
        assert _digests(out / sub) == _digests(ref / sub) and _digests(out / sub)


def test_resume_after_an_interrupted_edits_phase(sites_input, serial_ref, tmp_path, monkeypatch):
    ref = serial_ref[0]
    cfg = bp_config(tmp_path)
    real = Boilerplate._edits
    monkeypatch.setattr(Boilerplate, "_edits", crash_when(real, lambda self, item, work, ctx: item == 1))
    with pytest.raises(StageError, match="phase edits item 1 raised RuntimeError: simulated crash"):
        mdfs.run(cfg, str(sites_input[0]), str(tmp_path / "out"), engine="serial", progress=False,
                 overrides=["output.keep_work=true"])
    monkeypatch.setattr(Boilerplate, "_edits", real)
    stats = tmp_path / "out" / "stats" / "global"
    done = {p.name: p.stat().st_mtime_ns for p in stats.iterdir()}
    assert "boilerplate-count-00000.json" in done and "boilerplate-edits-00001.json" not in done
    resumed = mdfs.run(cfg, str(sites_input[0]), str(tmp_path / "out"), engine="serial", progress=False,
                       overrides=["output.keep_work=true"])
    assert resumed.shards_skipped > 0
    # finished items not redone
    assert all((stats / name).stat().st_mtime_ns == t for name, t in done.items())
    for sub in ("data", "rejects"):
        assert _digests(tmp_path / "out" / sub) == _digests(ref / sub)
    # a lost edits file is found by its item's marker and rebuilt; the shards it feeds are redone
    next(iter(sorted((tmp_path / "out" / "_work" / "boilerplate" / "edits").glob("*.parquet")))).unlink()
    for part in (tmp_path / "out" / "data").glob("*.parquet"):
        part.unlink()
    again = mdfs.run(cfg, str(sites_input[0]), str(tmp_path / "out"), engine="serial", progress=False,
                     overrides=["output.keep_work=true"])
    assert again.shards_run > 0
    for sub in ("data", "rejects"):
        assert _digests(tmp_path / "out" / sub) == _digests(ref / sub)


# -- real pages ----------------------------------------------------------------------------------------------
def test_real_site_templates_are_cut_and_article_lines_survive(tmp_path):
    shared("web-pages", "gne", "pages.jsonl")
    from tools.bench.boilerplate import measure_gne_text

    res = measure_gne_text(tmp_path, {})
    score = res["score"]
    assert score["article"]["lines"] > 1000 and score["article"]["removed"] == 0
    assert score["template"]["share_removed"] >= 0.9
    for site in ("163", "sina", "thepaper"):  # the sites with 6 and more pages, one by one
        t = res["per_site"][site]["template"]
        assert t["removed"] / t["lines"] >= 0.9, site
    assert score["other"]["removed"] == 0 and res["single_page_sites"]["unlabelled"]["removed"] == 0
    assert res["counters"]["copy_sets"] >= 1 and res["counters"]["kept_copy_lines"] > 0  # thepaper's reposts
