"""The coarse stage's rules on small written examples: line cleaning, PII, lexicons, repetition, ratios,
URL rules, counters for every rule, parameters. Real-data figures are in test_coarse_real.py."""

import json
import random
from collections import Counter

import numpy as np
import pyarrow as pa
import pytest

import mdfs
from mdfs.config import load_config
from mdfs.errors import ConfigError
from mdfs.registry import build_stage
from mdfs.stage import REJECT, StageContext
from mdfs.stages.coarse import CoarseFilter
from mdfs.stages.rules.chars import CharView
from mdfs.stages.rules.lexicon import Lexicon, LexiconRules, normalise
from mdfs.stages.rules.lines import LineCleaner, LineCleaning
from mdfs.stages.rules.pii import PiiMasker, PiiMasking, id_checksum_ok, luhn_ok
from mdfs.stages.rules.repetition import ngram_shares

from .conftest import CLEAN, TINY, write_jsonl

PROSE = "".join(CLEAN)  # five clean sentences, about 230 characters
# a site menu, one item a line
MENU = ["新闻动态", "公司简介", "产品中心", "联系方式", "人才招聘", "在线留言", "客户服务", "行业资讯",
        "技术支持", "下载中心", "合作伙伴", "企业文化", "发展历程", "荣誉资质"]


def table(texts, urls=None):
    cols = {"id": pa.array([f"d{i}" for i in range(len(texts))], pa.string()),
            "text": pa.array(texts, pa.string())}
    if urls is not None:
        cols["url"] = pa.array(urls, pa.string())
    return pa.table(cols)


def run(texts, url_column=None, **params):
    stage = CoarseFilter("coarse", CoarseFilter.Params.model_validate(params))
    stage.setup()
    ctx = StageContext("coarse", "part-00000")
    return stage.process(table(texts, url_column), ctx), ctx


def varied(n_chars: int, seed: int = 1) -> str:
    """Non-repetitive Chinese-looking text (random common characters, a full stop every 20)."""
    rng = random.Random(seed)
    chars = ("的一是不了人我在有他这中大来上国个到说们为子和你"
             "地出道也时年得就那要下以生会自着去之过家学对可里后")
    return "".join(rng.choice(chars) + ("。" if i % 20 == 19 else "") for i in range(n_chars))


def reasons(out):
    return out.column(REJECT).to_pylist()


# -- line cleaning ---------------------------------------------------------------------------------
PAGE = "\n".join([
    "首页 | 新闻 | 体育 | 娱乐 | 财经",
    "您的位置：首页 > 新闻 > 正文",
    CLEAN[0],
    "上一篇：杭州的春天",
    CLEAN[1],
    "【责任编辑：张三】",
    "分享到：微信 微博 QQ空间",
    "——————————————",
    "https://example.com/a/b/c.html",
    CLEAN[2],
    "版权所有 © 2024 某某网 京ICP备12345678号",
])


def test_line_cleaning_removes_navigation_and_keeps_prose():
    cleaner = LineCleaner(LineCleaning())
    out = cleaner.clean(pa.array([PAGE, CLEAN[3]]))
    assert out.text.to_pylist() == ["\n".join(CLEAN[:3]), CLEAN[3]]
    c = out.counters
    assert c["lines_removed__boilerplate"] == 4  # 上一篇, 责任编辑, 分享到, 版权所有/ICP
    assert c["lines_removed__link_list"] == 2    # the menu and the breadcrumb
    assert c["lines_removed__url_line"] == 1 and c["lines_removed__symbol_line"] == 1
    assert c["chars_removed__url_line"] == len("https://example.com/a/b/c.html")
    # the kept lines line up with their documents and character counts
    assert out.parents.tolist() == [0, 0, 0, 1]
    assert out.visible.tolist() == [len(t) for t in CLEAN[:4]]


def test_prose_mentioning_navigation_words_is_kept():
    prose = ["我在上一篇文章里说过，这座城市的版权保护做得不好，"
             "很多人不知道版权所有的含义，也很少去查看网站的备案信息。",
             "他点击查看了一下相关阅读材料，然后继续写作业。"]
    out = LineCleaner(LineCleaning()).clean(pa.array(["\n".join(prose)]))
    assert out.text.to_pylist() == ["\n".join(prose)]


def test_widgets_counters_and_disclaimers_of_real_pages_are_removed():
    """Line kinds that survived line cleaning on the gold pages' tuning side (docs/eval.md)."""
    junk = ["特别声明：以上内容(如有图片或视频亦包括在内)为自媒体平台用户上传并发布", "分享让更多人看到",
            "点击右上角微信好友", "朋友圈", "249人参与49评论",
            "- 你最喜欢哪位科幻小说作家？ 7.2万次浏览", "发布于 2023-07-06 23:12 浙江省杭州市",
            "2023-07-07 03:56",
            "19", "上海市", "浙江省杭州市", "IP属地：广东", "热门 最新", "没有更多了",
            "本文为原创，未经书面授权请勿转载。"]
    kept = ["上海市今年新建了三座图书馆，市民借书更方便了。", "2023年7月6日，我们在杭州见面。",
            "第19届亚运会在杭州举行。"]
    out = LineCleaner(LineCleaning()).clean(pa.array(["\n".join(junk + kept)]))
    assert out.text.to_pylist() == ["\n".join(kept)]
    assert out.counters["lines_removed__boilerplate"] + out.counters["lines_removed__link_list"] == len(junk)


def test_pinyin_annotations_are_removed_only_with_tone_marks():
    cleaner = LineCleaner(LineCleaning())
    out = cleaner.clean(pa.array(["系统参(cān)数(shù)的调(tiáo)整（zhěng）很重要。",
                                  "函数(function)与变量(a)不变。"]))
    assert out.text.to_pylist() == ["系统参数的调整很重要。", "函数(function)与变量(a)不变。"]
    assert out.counters["annotations_removed__pinyin"] == 4
    assert out.counters["chars_removed__pinyin"] == len("(cān)(shù)(tiáo)（zhěng）")


def test_blank_lines_left_by_removals_are_squeezed():
    text = "上一篇：旧闻\n\n" + CLEAN[0] + "\n\n分享到：微信\n\n" + CLEAN[1] + "\n\n版权所有 某网"
    out = LineCleaner(LineCleaning()).clean(pa.array([text]))
    assert out.text.to_pylist() == [CLEAN[0] + "\n\n" + CLEAN[1]]


# -- PII ---------------------------------------------------------------------------------------------
def test_pii_is_masked_by_type_with_validation():
    masker = PiiMasker(PiiMasking())
    texts = ["联系电话：138-0013-8000，或发邮件到 li.ming@example.com.cn 咨询。",
             "身份证号11010519491231002X，银行卡 6222 0202 0000 0000 006 请核对。",
             "座机 (0512)55111066 或 021-56692669-8819，加QQ：215138693，微信号：abc_12345。",
             "订单号110105194912310021不是身份证，4111111111111112也不是有效卡号，13800138000是手机。",
             "没有个人信息的一句话。"]
    out, counts = masker.mask(pa.array(texts))
    assert out.to_pylist() == [
        "联系电话：<MOBILE>，或发邮件到 <EMAIL> 咨询。",
        "身份证号<ID_CARD>，银行卡 <BANK_CARD> 请核对。",
        "座机 <LANDLINE> 或 <LANDLINE>，加QQ：<QQ>，微信号：<WECHAT>。",
        "订单号110105194912310021不是身份证，4111111111111112也不是有效卡号，<MOBILE>是手机。",
        "没有个人信息的一句话。"]
    assert counts == {"email": 1, "id_card": 1, "bank_card": 1, "mobile": 2, "landline": 2, "qq": 1,
                      "wechat": 1}
    assert id_checksum_ok("11010519491231002X") and not id_checksum_ok("110105194912310021")
    assert luhn_ok("6222020200000000006") and not luhn_ok("4111111111111112")


def test_pii_types_and_placeholder_are_configurable():
    masker = PiiMasker(PiiMasking(types=["email"], placeholder="[{type}]"))
    out, counts = masker.mask(pa.array(["邮箱 a@b.cn 电话 13800138000"]))
    assert out.to_pylist() == ["邮箱 [email] 电话 13800138000"] and counts == {"email": 1}


# -- lexicons ------------------------------------------------------------------------------------------
def test_lexicon_normalises_separators_and_honours_exceptions():
    lx = Lexicon(LexiconRules())
    assert lx.matched_terms("六*合*彩 【六】【合】【彩】 六 合 彩") == ["六合彩"] * 3
    # 口交 / 群交 are inside words
    assert lx.matched_terms("去年的出口交易额创新高，社群交流也很活跃。") == []
    assert lx.matched_terms("六合\n彩") == []  # never across lines
    assert lx.matched_terms("PornHub") == ["pornhub"]
    assert normalise("Ａ B·c") == "ａbc"  # lower case, separators gone (full width is collection's job)


def test_lexicon_counts_single_characters_that_never_occur_in_prose_only():
    for name, terms in Lexicon(LexiconRules()).sizes.items():
        assert terms > 0, name
    lx = Lexicon(LexiconRules())
    single = [k for k, cats in zip(lx.keys, lx.categories) if len(k) == 1 and cats]
    assert set(single) <= {"屄", "肏"}
    assert "性" not in lx.keys and "赌" not in lx.keys


def test_user_lexicon_files_and_categories(tmp_path):
    (tmp_path / "brands.txt").write_text("# 竞品\n某某牌奶粉\n競品藥\n", encoding="utf-8")
    competitors = {"files": [str(tmp_path / "brands.txt")], "min_hits": 2, "min_density": 0}
    rules = LexiconRules.model_validate({"categories": {"porn": {"min_hits": 5}, "competitors": competitors}})
    assert rules.categories["porn"].min_density == 1.0  # a partial override keeps the other defaults
    assert rules.categories["ads_spam"].min_hits == 4 and not rules.categories["political"].enabled
    text = "某某牌奶粉卖得好。竞品药也不错，某某牌奶粉还在打折。" + PROSE
    out, ctx = run([text, PROSE], lexicon=rules.model_dump())
    assert reasons(out) == ["lexicon_competitors", None]  # the Traditional term matches Simplified text
    assert out.column("coarse__lex_competitors_hits").to_pylist() == [3, 0]
    assert ctx.counters["lexicon_hits__competitors"] == 3
    with pytest.raises(ValueError, match="no files"):
        Lexicon(LexiconRules.model_validate({"categories": {"mine": {}}}))


def test_lexicon_thresholds_need_hits_and_density():
    spam = "六合彩开奖记录，特码资料，心水论坛。" + CLEAN[0]
    diluted = "新闻里提到了六合彩、赌场和博彩公司。" + varied(4000)
    out, _ = run([spam, diluted, PROSE])
    assert reasons(out) == ["lexicon_gambling_lottery", None, None]
    hits = out.column("coarse__lex_gambling_lottery_hits").to_pylist()
    assert hits[0] == 3 and hits[1] == 3 and hits[2] == 0
    density = out.column("coarse__lex_gambling_lottery_density").to_pylist()
    assert density[0] > 20 and density[1] < 1


# -- repetition and document ratios --------------------------------------------------------------------
def test_ngram_shares_agree_with_a_brute_force_count():
    rng = random.Random(7)
    alphabet = ("的一是不了人我在有他这中大来上国个到说们为子和你"
                "地出道也时年得就那要下以生会自着去之过家学对可里后")
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 400))) for _ in range(300)]
    texts[5] = "哈哈" * 100
    texts[6] = ""
    view = CharView.of(pa.array(texts))
    shares = ngram_shares(view, {2, 3}, {5})
    off = []  # 26-bit hashes: a rare collision adds one spurious repeat
    for i, t in enumerate(texts):
        for n in (2, 3):
            c = Counter(t[j:j + n] for j in range(len(t) - n + 1))
            top = max(c.values(), default=0)
            expected = min(top * n / len(t), 1.0) if top > 1 else 0.0
            if shares[f"top_{n}"][i] != pytest.approx(expected):
                off.append(abs(shares[f"top_{n}"][i] - expected))
        c = Counter(t[j:j + 5] for j in range(len(t) - 4))
        total = sum(c.values())
        expected = sum(v for v in c.values() if v > 1) / total if total else 0.0
        if shares["dup_5"][i] != pytest.approx(expected):
            off.append(abs(shares["dup_5"][i] - expected))
    assert len(off) <= 3 and max(off, default=0) < 0.05, off
    assert shares["top_2"][5] == 1.0


def test_repetition_rules():
    repeated_line = "\n".join([CLEAN[0]] * 5 + [CLEAN[1], CLEAN[2]])
    repeated_paragraphs = "\n\n".join([CLEAN[3] + CLEAN[4]] * 3 + [CLEAN[0]])
    laughing = "哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈，" + CLEAN[1]
    out, ctx = run([repeated_line, repeated_paragraphs, laughing, PROSE])
    assert reasons(out) == ["dup_lines", "dup_line_chars", "top_2gram", None]
    assert out.column("coarse__dup_para_frac").to_pylist()[1] == pytest.approx(2 / 4)
    assert ctx.counters["docs_flagged__dup_paragraphs"] == 0  # 2/4 is not over 0.5
    assert ctx.counters["docs_flagged__dup_paragraph_chars"] == 1
    assert out.column("coarse__dup_line_frac").to_pylist()[0] == pytest.approx(4 / 7)
    assert out.column("coarse__dup_6gram_share").to_pylist()[1] > 0.7


def test_document_ratio_and_line_shape_rules():
    odds = "\n".join(f"第{i}期 {i * 7919 % 100000:05d} {i * 131 % 1000:03d} 开出 {i % 49:02d} 号码"
                     for i in range(40))
    icons = "\n".join("★☆◆◇■□▲△" + s for s in CLEAN)
    menu = "\n".join(MENU)
    bullets = "\n".join("• " + s for s in CLEAN)
    teasers = "\n".join(s[:30] + "……" for s in CLEAN)
    links = CLEAN[0] + CLEAN[1] + " ".join(f"https://www.example.com/news/2024/{i}.html" for i in range(2))
    out, ctx = run([odds, icons, menu, bullets, teasers, links, PROSE])
    assert reasons(out) == ["high_digit_ratio", "high_symbol_ratio", "short_lines", "bullet_lines",
                            "ellipsis_lines", "url_density", None]
    assert ctx.counters["docs_flagged__short_lines"] == 1


def test_existing_scores_and_reasons_stay():
    out, _ = run(["太短了", CLEAN[0], "Mostly English text with 一点中文 inside it"], min_chars=10,
                 min_chinese_ratio=0.5)
    assert reasons(out) == ["too_short", None, "low_chinese_ratio"]
    assert out.column("coarse__chars").to_pylist()[0] == 3
    empty, _ = run([])
    assert empty.num_rows == 0 and "coarse__zh_ratio" in empty.column_names


# -- URLs --------------------------------------------------------------------------------------------------
def test_domain_blocklist_and_url_patterns(tmp_path):
    (tmp_path / "block.txt").write_text("# mine\nbad-news.cn\n", encoding="utf-8")
    urls = ["https://www.pornhub.com/view?x=1", "http://m.cdn.xvideos.com/a", "https://news.bad-news.cn/1.html",
            "https://example.com/liuhecai/2024.html", "https://www.essex.ac.uk/sex-education", None,
            "https://news.qq.com/a/1.html"]
    out, ctx = run([PROSE] * len(urls), url_column=urls,
                   urls={"domain_blocklists": ["default", str(tmp_path / "block.txt")]})
    assert reasons(out) == ["blocked_domain", "blocked_domain", "blocked_domain", "url_pattern",
                            "url_pattern", None, None]
    assert ctx.counters["docs_flagged__blocked_domain"] == 3
    no_url, _ = run([PROSE])  # a batch without a url column
    assert reasons(no_url) == [None]


# -- every rule counted ----------------------------------------------------------------------------------
def rule_reasons(stage: CoarseFilter) -> set[str]:
    n = 1
    scores = {k: np.zeros(n)
              for k in ("chars", "zh_ratio", "symbol_ratio", "digit_ratio", "latin_ratio", "punct_ratio",
                                       "dup_line_frac", "dup_line_char_frac", "dup_para_frac",
                                       "dup_para_char_frac",
                                       "lines", "mean_line_chars", "bullet_line_ratio", "ellipsis_line_ratio",
                                       "url_ratio", "prose_chars", "long_prose_chars")}
    r = stage.params.repetition
    scores |= {f"top_{k}gram_share": np.zeros(n) for k in r.max_top_ngram_share}
    scores |= {f"dup_{k}gram_share": np.zeros(n) for k in r.max_dup_ngram_share}
    lexicon = {name: (np.zeros(n), np.zeros(n), np.zeros(n)) for name in stage.lexicon.names}
    return {reason for _, reason in stage._rules(scores, lexicon, {"blocked_domain": np.zeros(n, bool),
                                                                    "url_pattern": np.zeros(n, bool)})}


def test_every_rule_has_a_counter_even_at_zero():
    _, ctx = run([PROSE])
    stage = CoarseFilter("coarse")
    stage.setup()
    expected = {f"docs_flagged__{r}" for r in rule_reasons(stage)}
    expected |= {f"{kind}__{rule}" for kind in ("lines_removed", "chars_removed")
                 for rule in ("boilerplate", "link_list", "url_line", "symbol_line")}
    expected |= {f"pii_masked__{t}"
                 for t in ("email", "id_card", "bank_card", "mobile", "landline", "qq", "wechat")}
    expected |= {f"lexicon_hits__{c}"
                 for c in ("porn", "gambling_lottery", "violence", "illegal_trade", "ads_spam")}
    expected |= {"annotations_removed__pinyin", "chars_removed__pinyin"}
    assert expected <= set(ctx.counters)
    assert len([k for k in expected if k.startswith("docs_flagged__")]) >= 25


def test_every_rule_appears_in_the_manifest(tmp_path, tiny_model):
    docs = [{"id": f"c{i}", "text": CLEAN[i % 5] + CLEAN[(i + 2) % 5] + f"第{i}号。"} for i in range(20)]
    docs += [{"id": "spam", "text": "六合彩开奖记录，特码资料，心水论坛，最快开奖，加QQ：215138693。"},
             {"id": "menu", "text": "\n".join(MENU)}]
    write_jsonl(tmp_path / "in" / "docs.jsonl", docs)
    s = mdfs.run(str(TINY), str(tmp_path / "in"), str(tmp_path / "out"), engine="serial", progress=False,
                 overrides=[f"stages.quality.model={tiny_model}", "stages.coarse.min_chars=20"])
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    coarse = manifest["stages"]["coarse"]
    stage = CoarseFilter("coarse")
    stage.setup()
    for reason in rule_reasons(stage):
        assert f"docs_flagged__{reason}" in coarse["counters"], reason
    assert coarse["reasons"]["lexicon_gambling_lottery"] == 1 and coarse["reasons"]["short_lines"] == 1
    assert coarse["counters"]["pii_masked__qq"] == 1 and s.stages["coarse"].docs_out == 20


# -- parameters -------------------------------------------------------------------------------------------
def test_parameters_are_validated_with_key_paths(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("stages:\n  - name: coarse\n    with: {repetition: {max_top_ngram_share: {1: 0.5}}}\n")
    with pytest.raises(ConfigError, match=r"stages\[0\]\.with\.repetition\.max_top_ngram_share"):
        build_stage(load_config(bad).stages[0], 0)
    bad.write_text("stages:\n  - name: coarse\n    with: {cleaning: {boilerplat: true}}\n")
    with pytest.raises(ConfigError, match=r"stages\[0\]\.with\.cleaning\.boilerplat"):
        build_stage(load_config(bad).stages[0], 0)


def test_rules_can_be_switched_off():
    menu = "\n".join(["新闻动态", "公司简介", "产品中心", "人才招聘", "在线留言"] * 3)
    repetition = {"max_dup_line_frac": None, "max_dup_line_char_frac": None, "max_dup_para_char_frac": None,
                  "max_top_ngram_share": {}, "max_dup_ngram_share": {}}
    out, _ = run([menu], document={"min_mean_line_chars": None}, repetition=repetition,
                 cleaning={"link_lists": False})
    assert reasons(out) == [None]
