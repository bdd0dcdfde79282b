"""Train the small default fastText quality classifier shipped with mdfs (`quality_zh.ftz`).

Positives (`__label__hq`): Chinese Wikipedia paragraphs (CMRC 2018, DRCD) and the human-checked main
texts of the magic-html benchmark pages. Negatives (`__label__lq`): the non-main-content text of the
same pages (navigation, footers, link lists), the Chinese spam pages of a Common Crawl WARC excerpt,
and synthetic junk (keyword stuffing from the konsheng ad/porn lexicons, ad lines with phone numbers
and WeChat ids, call-to-action templates). Every text goes through what the pipeline does before the
quality stage (normalize, OpenCC t2s, the coarse filter's length/Chinese-ratio floor) and is fed to
fastText as `char_tokens(text, 2000)`, exactly as `stages/quality.py` scores it.

Re-run from the repository root:  python -m tools.models.train_default [--corpora DIR]
Writes quality_zh.ftz and quality_zh.metrics.json next to this file.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import fasttext
import numpy as np
import opencc

from mdfs.goldtext import shared_corpora
from mdfs.quality.metrics import roc_auc
from mdfs.quality.model import Sidecar, write_sidecar
from mdfs.quality.tokens import TokenizerConfig
from mdfs.textnorm import char_tokens, normalize
from tools.pages import page_lines

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
MODELS = REPO / "stages" / "models"  # the bundled models this tool writes
HQ, LQ = "__label__hq", "__label__lq"
MAX_CHARS = 2000
MIN_CHARS, MIN_ZH_RATIO = 50, 0.3  # the coarse stage's defaults: shorter / non-Chinese text never gets here
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
KANA = re.compile(r"[\u3040-\u30ff]")
T2S = opencc.OpenCC("t2s")

# Trained with a validation split carved from the training groups; the best by F1 (then AUC) is
# retrained on the whole training split. Kept small so the run stays well under three minutes.
GRID = [dict(lr=lr, epoch=ep, dim=dim) for lr in (0.2, 0.5) for ep in (5, 10) for dim in (16, 32)]
FIXED = dict(wordNgrams=2, minCount=2, bucket=200_000, loss="softmax", thread=2, seed=1, verbose=0)
QUANT_CUTOFF = 50_000


@dataclass
class Doc:
    text: str
    label: str
    source: str  # e.g. "wiki/cmrc", "magic/boilerplate", "synthetic/cta"
    group: str   # documents sharing a group (page, article, template) land in the same split


# ---------------------------------------------------------------- text helpers

def prepare(text: str) -> str:
    """What the pipeline hands the quality stage: normalised, Traditional converted to Simplified."""
    return T2S.convert(normalize(text))


def in_scope(text: str) -> bool:
    """The coarse stage's default floor (enough visible characters, enough of them CJK), and not
    Japanese: two magic-html pages pass the CJK ratio on kanji alone."""
    visible, cjk, kana = len(re.sub(r"\s", "", text)), len(CJK.findall(text)), len(KANA.findall(text))
    return visible >= MIN_CHARS and cjk / max(visible, 1) >= MIN_ZH_RATIO and kana <= 0.2 * (cjk + kana)


def chunk_lines(lines: list[str], max_lines: int, max_chars: int = 800) -> list[str]:
    """Consecutive lines joined into documents of at most `max_lines` lines / about `max_chars` chars."""
    docs, cur = [], []
    for line in lines:
        cur.append(line)
        if len(cur) >= max_lines or sum(map(len, cur)) >= max_chars:
            docs.append("\n".join(cur))
            cur = []
    if cur:
        docs.append("\n".join(cur))
    return docs


def decode_html(body: bytes, declared: str | None = None) -> str:
    """Decode with the declared charset (HTTP header, else <meta>), gb2312/gbk read as gb18030;
    otherwise UTF-8 with replacement characters."""
    if not declared:
        m = re.search(rb"charset=[\"']?([\w-]+)", body[:4096], re.I)
        declared = m.group(1).decode("ascii") if m else None
    charset = (declared or "utf-8").lower()
    if charset in {"gb2312", "gbk", "gb_2312-80", "x-gbk"}:
        charset = "gb18030"
    try:
        return body.decode(charset, errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


# ---------------------------------------------------------------- real data

def wiki_docs(corpora: Path) -> list[Doc]:
    """Wikipedia paragraphs, positives: CMRC (Simplified) and DRCD (Traditional, converted later)."""
    docs = []
    for name, source in [("cmrc2018_paragraphs.zh-Hans.jsonl", "wiki/cmrc"),
                         ("drcd_paragraphs.zh-Hant-TW.jsonl", "wiki/drcd")]:
        with open(corpora / "wiki-zh" / name, encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                docs.append(Doc(row["text"], HQ, source, f"wiki:{T2S.convert(row['title'])}"))
    return docs


def magic_html_docs(corpora: Path) -> list[Doc]:
    """magic-html pages: ground-truth main text (chunked) as positives; the page's other text lines,
    joined in runs of a few lines, as negatives."""
    docs = []
    for kind in ("article", "forum"):
        folder = corpora / "html-zh" / "magic-html" / kind
        truth = json.loads((folder / "groundtruth.json").read_text(encoding="utf-8"))
        for stem, entry in sorted(truth.items()):
            content = entry["content"]
            main_lines = [line.strip() for line in content.split("\n") if line.strip()]
            for chunk in chunk_lines(main_lines, max_lines=30):
                docs.append(Doc(chunk, HQ, "magic/main", f"magic:{stem}"))
            compact_truth = re.sub(r"\s+", "", content)
            page = decode_html((folder / f"{stem}.html").read_bytes())
            run: list[str] = []
            for line in page_lines(page, title=False) + [""]:  # the sentinel flushes the last run
                if line and re.sub(r"\s+", "", line) not in compact_truth:
                    run.append(line)
                    continue
                for chunk in chunk_lines(run, max_lines=6):
                    docs.append(Doc(chunk, LQ, "magic/boilerplate", f"magic:{stem}"))
                run = []
    return docs


def readability_articles(corpora: Path) -> dict[str, str]:
    """The four mozilla/readability expected articles (news, science, a Traditional-Chinese blog):
    never trained on, scored as an out-of-sample check."""
    folder = corpora / "html-zh" / "readability"
    return {d.name: "\n".join(page_lines((d / "expected.html").read_text(encoding="utf-8"), title=False))
            for d in sorted(folder.iterdir()) if (d / "expected.html").exists()}


def warc_responses(path: Path) -> list[tuple[str, str]]:
    """(target URI, decoded HTML) of the HTTP responses in a plain (uncompressed) WARC file."""
    data, pos, out = path.read_bytes(), 0, []
    while (start := data.find(b"WARC/1.0\r\n", pos)) != -1:
        head_end = data.index(b"\r\n\r\n", start)
        headers = dict(line.split(": ", 1) for line in data[start:head_end].decode().split("\r\n")[1:])
        headers = {k.lower(): v for k, v in headers.items()}
        block_start = head_end + 4
        pos = block_start + int(headers["content-length"])
        if headers.get("warc-type") != "response":
            continue
        http_head, _, body = data[block_start:pos].partition(b"\r\n\r\n")
        m = re.search(rb"^content-type:[^\r\n]*charset=([\w-]+)", http_head, re.I | re.M)
        out.append((headers.get("warc-target-uri", ""), decode_html(body, m and m.group(1).decode())))
    return out


def warc_spam_docs(corpora: Path) -> list[Doc]:
    """The Chinese pages of the Common Crawl excerpt (nearly all spam), a few lines per document."""
    docs = []
    for uri, html in warc_responses(corpora / "cc-warc" / "warcfile.warc"):
        lines = page_lines(html, title=False)
        text = "".join(lines)
        if len(CJK.findall(text)) < 0.2 * max(len(text), 1):
            continue  # the Russian, German and Dutch pages
        for chunk in chunk_lines(lines, max_lines=8):
            docs.append(Doc(chunk, LQ, "warc/spam", f"warc:{uri}"))
    return docs


# ---------------------------------------------------------------- synthetic junk

PRODUCTS = ["减肥茶", "祛斑霜", "名表", "奢侈品包包", "高仿鞋", "面膜", "保健品", "网游装备", "理财产品",
            "瘦身胶囊", "丰胸精油", "增高鞋垫", "代购化妆品", "二手手机", "茶叶礼盒", "壮阳药"]
CITIES = ["北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "南京", "重庆", "西安", "长沙", "郑州"]
# Short generic call-to-action ad texts; the slots are filled at random.
CTA_TEMPLATES = [
    "加微信{wx}，{product}代理加盟，一件代发，月入过万不是梦！",
    "点击购买{product}，限时优惠{off}折，前100名再送好礼！",
    "{city}{product}批发，厂家直销，价格最低，咨询电话{phone}",
    "兼职招聘：在家动动手指日赚{money}元，有意者加QQ{qq}",
    "【爆款】{product}全网最低价，包邮到家，立即抢购>>>",
    "扫码关注公众号，免费领取{product}试用装，数量有限先到先得",
    "专业办证刻章，各类证件一站办理，联系电话{phone}，微信同号",
    "{city}上门服务，24小时营业，电话{phone}，加V：{wx}",
    "无抵押贷款，当天放款，额度最高{money}元，详询{phone}",
    "今日特价！{product}原价{money}元，现价只要{price}元，点击链接立即下单 {url}",
    "想赚钱的朋友看过来，零投资零风险，加微信{wx}了解详情",
    "{product}招全国代理，无需囤货，客服微信：{wx}",
    "最新优惠活动火热进行中，注册即送{money}元红包，详情请进入 {url}",
    "免费咨询热线：{phone}（同微信），专业团队为您服务",
    "{city}同城交友，美女在线等你，点击进入 {url}",
    "香港六合彩最快开奖结果，一码中特，加QQ{qq}获取内幕资料",
    "足球投注平台，充值秒到账，提现无限制，官网{url}",
    "信用卡提现，手续费低至{off}%，秒到账，微信{wx}",
    "{product}清仓大甩卖！全场{off}折起，错过再等一年！",
    "本店所有{product}均为正品，支持验货，假一赔十，咨询客服{qq}",
    "亲，喜欢就收藏本店吧，关注店铺有惊喜哦～",
    "回复可见：{product}内部资料免费下载，加群{qq}",
    "网络兼职打字员，日结工资，学生宝妈均可，联系{wx}",
    "{product}团购价{price}元，拼团再减{off}元，仅限今天！",
    "免费试用{product}，无效退款，订购热线{phone}",
    "高清在线播放，全集免费下载，手机也能看，收藏网址{url}",
    "专业代写论文、代考、包过，联系QQ{qq}",
    "{city}装修公司，免费上门量房设计，报价电话{phone}",
    "新用户首单立减{money}元，下载APP领取更多优惠",
    "招商加盟：投资{money}元开店，三个月回本，热线{phone}",
    "点赞关注转发，抽{off}位粉丝送{product}！",
    "诚招各地代理商，利润丰厚，扶持到位，加微信{wx}详谈",
    "私家侦探，调查婚外情，寻人找车，电话{phone}",
    "低价出售各类{product}，款到发货，量大从优",
    "{product}厂家直供，支持一件代发，代理微信{wx}",
    "立即注册送体验金{money}元，真人娱乐，火爆开启 {url}",
]
AD_LINES = [
    "联系电话：{phone}", "微信：{wx}", "QQ：{qq}", "客服热线 {phone}", "官网：{url}",
    "地址：{city}市某某路{n}号",
    "价格：{price}元/件", "点击咨询", "立即购买", "加入购物车", "销量{n}件", "包邮", "在线客服", "免费索取",
    "首页 | 产品中心 | 联系我们", "版权所有 © {city}某某有限公司", "上一篇 下一篇", "更多>>",
]


def _slots(rng: random.Random) -> dict[str, str]:
    """Random values for the ad templates' slots."""
    return dict(
        wx=rng.choice(["wx", "vx", "v", ""]) + "".join(rng.choices("abcdefghjkmnpqrstuvwxyz0123456789",
                                                             k=rng.randint(6, 10))),
        qq=str(rng.randint(10_000_000, 3_999_999_999)),
        phone=f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}",
        product=rng.choice(PRODUCTS), city=rng.choice(CITIES), off=str(rng.randint(1, 9)),
        money=str(rng.choice([99, 188, 500, 888, 1000, 3000, 5000, 10000, 50000])),
        price=f"{rng.randint(9, 999)}.{rng.randint(0, 99):02d}", n=str(rng.randint(1, 9999)),
        url=f"www.{''.join(rng.choices('abcdefghijklmnopqrstuvwxyz0123456789', k=rng.randint(4, 9)))}"
            f".{rng.choice(['com', 'cn', 'net', 'cc', 'top', 'vip'])}",
    )


def synthetic_docs(corpora: Path, n: int, seed: int) -> list[Doc]:
    """`n` junk documents: keyword stuffing from the konsheng ad/porn lexicons, ad blocks with contact
    lines, and call-to-action templates (grouped by template so held-out templates are unseen)."""
    rng = random.Random(seed)
    lexicon_dir = corpora / "lexicons" / "konsheng"
    terms = sorted({t.strip() for name in ("广告类型.txt", "色情类型.txt")
                    for t in (lexicon_dir / name).read_text(encoding="utf-8").splitlines() if t.strip()})
    docs = []
    for i in range(n):
        kind = i % 3
        if kind == 0:  # keyword stuffing, sometimes around a product/city
            words = rng.sample(terms, rng.randint(12, 40)) + [rng.choice(PRODUCTS), rng.choice(CITIES)]
            rng.shuffle(words)
            sep = rng.choice([" ", "|", "，", "、", " - ", "_", ","])
            docs.append(Doc(sep.join(words), LQ, "synthetic/stuffing", f"synth:stuffing{i}"))
        elif kind == 1:  # an ad block: a couple of templates plus contact lines
            t = rng.randrange(len(CTA_TEMPLATES))
            lines = [CTA_TEMPLATES[t]] + rng.sample(AD_LINES, rng.randint(3, 7)) + rng.sample(terms, 3)
            rng.shuffle(lines)
            docs.append(Doc("\n".join(lines).format(**_slots(rng)), LQ, "synthetic/adblock", f"synth:cta{t}"))
        else:  # call-to-action texts from one template, repeated with different slot values
            t = rng.randrange(len(CTA_TEMPLATES))
            text = "\n".join(CTA_TEMPLATES[t].format(**_slots(rng)) for _ in range(rng.randint(2, 4)))
            docs.append(Doc(text, LQ, "synthetic/cta", f"synth:cta{t}"))
    return docs


# ---------------------------------------------------------------- training and evaluation

def split_by_group(docs: list[Doc], test_frac: float, seed: int) -> tuple[list[Doc], list[Doc]]:
    """Deterministic split: within each family (wiki, magic, warc, synth) a seeded shuffle of the sorted
    groups sends `test_frac` of the groups, with all their documents, to the test side."""
    families: dict[str, set[str]] = defaultdict(set)
    for d in docs:
        families[d.group.split(":", 1)[0]].add(d.group)
    test_groups: set[str] = set()
    for family in sorted(families):
        groups = sorted(families[family])
        random.Random(f"{seed}:{family}").shuffle(groups)  # one stream per family: sizes don't interact
        test_groups.update(groups[:max(1, round(test_frac * len(groups)))])
    return [d for d in docs if d.group not in test_groups], [d for d in docs if d.group in test_groups]


def write_fasttext_file(docs: list[Doc], path: Path, seed: int) -> None:
    """fastText training file (shuffled): `<label> <char tokens>` per line."""
    lines = [f"{d.label} {char_tokens(d.text, MAX_CHARS)}" for d in docs]
    random.Random(seed).shuffle(lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def hq_probability(model: fasttext.FastText._FastText, texts: list[str]) -> np.ndarray:
    """P(hq) per (already prepared) text, scored the way stages/quality.py scores it."""
    labels, probs = model.predict([char_tokens(t, MAX_CHARS) for t in texts], k=-1)
    return np.array([dict(zip(ls, ps)).get(HQ, 0.0) for ls, ps in zip(labels, probs)], dtype=np.float64)


def evaluate(model: fasttext.FastText._FastText, docs: list[Doc], threshold: float = 0.5) -> dict:
    """Precision/recall/F1 of the hq class at `threshold`, ROC AUC, and mean P(hq) per source."""
    p = hq_probability(model, [d.text for d in docs])
    y = np.array([d.label == HQ for d in docs], dtype=np.int64)
    pred = p >= threshold
    tp, fp, fn = int((pred & (y == 1)).sum()), int((pred & (y == 0)).sum()), int((~pred & (y == 1)).sum())
    precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    by_source: dict[str, list[float]] = defaultdict(list)
    for d, s in zip(docs, p):
        by_source[d.source].append(float(s))
    f1 = 2 * precision * recall / max(precision + recall, 1e-9)
    return {
        "n": len(docs), "threshold": threshold, "precision_hq": round(precision, 4),
        "recall_hq": round(recall, 4), "f1_hq": round(f1, 4),
        "roc_auc": round(roc_auc(y, p), 4), "accuracy": round(float((pred == (y == 1)).mean()), 4),
        "mean_p_hq_by_source": {k: round(float(np.mean(v)), 4) for k, v in sorted(by_source.items())},
        "share_scored_hq_by_source": {k: round(float(np.mean(np.array(v) >= threshold)), 4)
                                      for k, v in sorted(by_source.items())},
    }


SANITY = {
    "news": "新华社北京3月5日电 国务院总理在政府工作报告中表示，今年国内生产总值预期增长5%左右，"
            "城镇新增就业1200万人以上。报告指出，要坚持稳中求进工作总基调，推动经济实现质的有效提升和量的合理增长，"
            "同时加大对科技创新和基础研究的投入，促进区域协调发展。",
    "science": "光合作用是植物、藻类和某些细菌利用光能，把二氧化碳和水转化为有机物并释放氧气的过程。"
               "这一过程主要发生在叶绿体中，分为光反应和暗反应两个阶段，是地球上几乎所有生命的能量来源。",
    "forum_post": "昨天去看了这部电影，说实话比预想的好很多。剧情节奏紧凑，几位主演的表演也很自然，"
                  "尤其是结尾那段对话让我想了很久。唯一的遗憾是配乐有些喧宾夺主，总体还是值得一看的。",
    "ad_wechat": "加微信xxx 代理加盟 点击购买 优惠 限时抢购 一件代发 月入过万 扫码领取 客服微信 欢迎咨询 "
                 "全场包邮 买一送一 联系电话13800138000",
    "keyword_stuffing": "北京seo优化 北京网站优化 北京网站建设 北京网络推广 北京seo公司 北京关键词排名 "
                        "北京网站制作 北京网络营销 北京百度推广 北京seo外包 北京整站优化 北京快速排名",
    "navigation": "首页\n新闻中心\n产品展示\n关于我们\n联系我们\n网站地图\n版权所有 © 2020 某某科技有限公司 "
                  "京ICP备12345678号\n上一篇：公司召开年度总结大会\n下一篇：热烈祝贺我司官网改版上线",
}


def train(path: Path, params: dict) -> fasttext.FastText._FastText:
    """fastText supervised training with the fixed settings plus `params`."""
    return fasttext.train_supervised(input=str(path), **FIXED, **params)


def build_dataset(corpora: Path, seed: int) -> list[Doc]:
    """All documents, prepared as the pipeline would and kept if in scope; synthetic junk fills the
    negatives up to the number of positives."""
    docs = []
    for d in wiki_docs(corpora) + magic_html_docs(corpora) + warc_spam_docs(corpora):
        d.text = prepare(d.text)
        if in_scope(d.text):
            docs.append(d)
    n_pos = sum(d.label == HQ for d in docs)
    for d in synthetic_docs(corpora, max(2 * n_pos - len(docs), n_pos // 5), seed):
        d.text = prepare(d.text)
        docs.append(d)
    return docs


def tune_and_train(train_docs: list[Doc], test_docs: list[Doc], out: Path,
                   seed: int) -> tuple[dict, list[dict], dict]:
    """Pick lr/epoch/dim on a validation split of the training groups, train on the whole training
    split, quantise and save to `out`. Returns the chosen params, the tuning table and the
    unquantised model's held-out metrics."""
    with tempfile.TemporaryDirectory() as tmp:
        fit_file, train_file = Path(tmp) / "fit.txt", Path(tmp) / "train.txt"
        fit, val = split_by_group(train_docs, 0.2, seed + 1)  # tuning never sees the test split
        write_fasttext_file(fit, fit_file, seed)
        tuning = []
        for params in GRID:
            m = evaluate(train(fit_file, params), val)
            tuning.append({**params, "f1_hq": m["f1_hq"], "roc_auc": m["roc_auc"]})
            print("tune", tuning[-1])
        # best F1, then AUC; on ties the smaller, faster model
        top = max(tuning, key=lambda r: (r["f1_hq"], r["roc_auc"], -r["dim"], -r["epoch"]))
        best = {k: top[k] for k in ("lr", "epoch", "dim")}
        write_fasttext_file(train_docs, train_file, seed)
        model = train(train_file, best)
        unquantized = {k: v for k, v in evaluate(model, test_docs).items() if not k.endswith("_by_source")}
        model.quantize(input=str(train_file), qnorm=True, retrain=True, cutoff=QUANT_CUTOFF)
        out.parent.mkdir(parents=True, exist_ok=True)
        model.save_model(str(out))
        # the sidecar tells the quality stage how this model reads text (mdfs.quality.model)
        write_sidecar(out, Sidecar(labels=[HQ, LQ], positive_label=HQ,
                                   tokenizer=TokenizerConfig(kind="chars", max_chars=MAX_CHARS),
                                   info={"trained_by": "tools/models/train_default.py",
                                         "metrics": out.with_suffix(".metrics.json").name}))
    return best, tuning, unquantized


def scores(model: fasttext.FastText._FastText, named_texts: dict[str, str]) -> dict[str, float]:
    """P(hq) of raw texts (prepared here), by name."""
    p = hq_probability(model, [prepare(t) for t in named_texts.values()])
    return {name: round(float(x), 4) for name, x in zip(named_texts, p)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpora", type=Path, default=shared_corpora(),
                    help="the shared corpora folder (default: ../shared/corpora from the repo root)")
    ap.add_argument("--out", type=Path, default=MODELS / "quality_zh.ftz")
    ap.add_argument("--seed", type=int, default=20240501)
    ap.add_argument("--test-frac", type=float, default=0.2)
    args = ap.parse_args()
    needed = ["wiki-zh", "html-zh/magic-html", "html-zh/readability", "cc-warc/warcfile.warc",
              "lexicons/konsheng"]
    missing = [n for n in needed if not (args.corpora / n).exists()]
    if missing:
        sys.exit(f"error: corpora not found under {args.corpora} (missing: {', '.join(missing)}); "
                 f"pass --corpora pointing at the shared corpora folder")

    t0 = time.perf_counter()
    train_docs, test_docs = split_by_group(build_dataset(args.corpora, args.seed), args.test_frac, args.seed)
    counts = {side: dict(sorted(Counter(d.source for d in ds).items()))
              for side, ds in (("train", train_docs), ("test", test_docs))}
    print(json.dumps(counts, ensure_ascii=False, indent=1))
    t_data = time.perf_counter() - t0
    best, tuning, unquantized = tune_and_train(train_docs, test_docs, args.out, args.seed)
    t_train = time.perf_counter() - t0 - t_data

    model = fasttext.load_model(str(args.out))  # evaluate exactly what ships

    def mean_p(prefix: str | tuple[str, ...]) -> float:
        """Mean P(hq) of the held-out documents whose source starts with `prefix`."""
        p = hq_probability(model, [d.text for d in test_docs if d.source.startswith(prefix)])
        return round(float(p.mean()), 4)

    real_only = evaluate(model, [d for d in test_docs if not d.source.startswith("synthetic/")])
    metrics = {
        "model": args.out.name, "size_bytes": args.out.stat().st_size, "labels": [HQ, LQ],
        "input": f"char_tokens(OpenCC t2s(normalize(text)), {MAX_CHARS})",
        "train_params": {**FIXED, **best,
                         "quantize": {"qnorm": True, "retrain": True, "cutoff": QUANT_CUTOFF}},
        "seed": args.seed, "docs": counts, "tuning_on_validation": tuning,
        "held_out_quantized": evaluate(model, test_docs),
        "held_out_quantized_real_only": {k: v for k, v in real_only.items() if k != "mean_p_hq_by_source"},
        "held_out_unquantized": unquantized,
        "sanity": {
            "mean_p_hq_heldout_wiki": mean_p("wiki/"),
            "mean_p_hq_heldout_synthetic_junk": mean_p("synthetic/"),
            "mean_p_hq_heldout_real_negatives": mean_p(("magic/boilerplate", "warc/")),
            "examples_p_hq": scores(model, SANITY),
            "readability_articles_p_hq": scores(model, readability_articles(args.corpora)),
        },
        "seconds": {"data": round(t_data, 1), "tune_train_quantize": round(t_train, 1)},
    }
    text = json.dumps(metrics, ensure_ascii=False, indent=2) + "\n"
    args.out.with_suffix(".metrics.json").write_text(text, encoding="utf-8")
    summary = ("size_bytes", "held_out_quantized", "held_out_quantized_real_only", "held_out_unquantized",
               "sanity", "seconds")
    print(json.dumps({k: metrics[k] for k in summary}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
