"""Generated junk that imitates how Chinese content farms and SEO spam are made.

Real junk in the shared corpora is narrow (one spider-pool network, a dozen Common Crawl spam pages), so
the page model and the development set also use pages built the way spammers build them, from real
clean text of the same split side and from keyword lists split the same way:
a gambling or porn title over spliced sentences of real articles, a casino brand swapped into real news,
a keyword pushed into every other sentence, punctuation or characters injected inside words, synonym
spinning, headline lists, ad blocks and navigation boilerplate. Every generator is a pure function of
its `random.Random` and its pools, so a (kind, seed) pair in the labels file regenerates the same page.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

from tools.models.corpora import corpora_dir, side

# Facts, not text: words of the gambling, porn and ad SEO trade, written by the mdfs team.
LEXICONS = Path(__file__).resolve().parents[2] / "stages" / "lexicons"
GAMBLING_BRANDS = [t for t in (LEXICONS / "brands_gambling.txt").read_text(encoding="utf-8").splitlines()
                   if t and not t.startswith("#")]
GAMBLING_WORDS = ["官网", "官方网站", "app下载", "登录入口", "注册送彩金", "首存优惠", "最新网址", "手机版",
                  "平台", "开户", "娱乐城", "真人", "棋牌", "电子游艺", "体育投注", "开奖记录", "开奖结果",
                  "计划", "稳赚", "返水", "在线", "唯一官网", "网页版", "客户端"]
PORN_TITLES = ["成人影片", "日韩无码", "国产自拍", "激情视频", "在线观看", "免费观看", "成人电影", "性爱视频",
               "黄色网站", "av在线", "成人网站", "午夜福利", "偷拍视频", "无码高清", "人妻", "巨乳",
               "成人小说", "激情小说", "色情视频", "一本道", "东京热", "少妇", "高清无码", "美女直播"]
AD_PRODUCTS = ["减肥茶", "祛斑霜", "增高鞋", "代孕", "办证", "发票", "贷款", "私家侦探", "刷单", "信用卡套现",
               "美白丸", "丰胸", "壮阳", "网赚", "兼职", "微商代理", "股票内幕", "高仿包", "二手车", "装修",
               "培训班", "留学中介", "医美"]
AD_LINES = ["咨询热线：{phone}", "微信：{wx}（同号）", "QQ：{qq}", "全国包邮，货到付款",
            "限时特价{price}元，手慢无",
            "点击立即咨询，专业客服在线", "厂家直销 正品保证 假一赔十", "加微信{wx}领取优惠",
            "扫码关注 免费领取",
            "官方授权 {product}专卖", "100%有效 无效退款", "今日下单立减{price}元", "更多详情请访问 {url}"]
NAV_LINES = ["首页", "新闻中心", "关于我们", "联系我们", "网站地图", "设为首页", "加入收藏", "返回顶部",
             "上一篇", "下一篇", "相关阅读", "热门推荐", "版权所有", "ICP备{n}号", "友情链接", "免责声明",
             "用户登录", "注册", "分享到：", "责任编辑：", "扫一扫", "打印本页", "关闭窗口",
             "当前位置：首页 > 新闻", "客户端下载"]
SPIN = {"介绍": "先容", "但是": "可是", "非常": "十分", "因为": "由于", "发展": "成长", "问题": "成绩",
        "重要": "主要", "已经": "曾经", "目前": "今朝", "进行": "举行", "需要": "须要", "方法": "办法",
        "经济": "经济体",
        "影响": "感化", "作用": "感化", "情况": "环境", "提高": "进步", "之后": "以后", "通过": "经由过程",
        "应该": "该当", "能够": "可以或许", "一些": "一点", "主要": "首要", "了解": "懂得", "工作": "任务",
        "可以": "能够", "同时": "同一时间", "认为": "以为", "自己": "本人", "时间": "时光", "国家": "国度",
        "表示": "透露表现", "活动": "运动", "希望": "盼望", "开始": "开端", "包括": "包含", "研究": "钻研"}
SENT = re.compile(r"[^。！？!?\n]+[。！？!?]?")


@dataclass
class Pools:
    """Everything a generator draws from, all of one split side."""

    docs: list[tuple[str, str]]                 # (title, clean text)
    headlines: list[str]
    gambling_brands: list[str]
    porn_terms: list[str]


def _split_list(items: list[str], split: str, family: str) -> list[str]:
    return [x for x in items if side(family, x, 50) == split]


def _lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [t.strip() for t in path.read_text(encoding="utf-8", errors="replace").splitlines()
            if t.strip() and not t.startswith(("#", "!", "/"))]


def load_pools(docs: list[tuple[str, str]], split: str, root: Path | None = None) -> Pools:
    """Pools of one split side; headlines are the documents' titles and clipped first sentences."""
    root = root or corpora_dir()
    heads = sorted({t for t, _ in docs if 4 <= len(t) <= 40})
    heads += [s[:random.Random(s).randint(10, 28)] for _, text in docs[::3] for s in sentences(text)[:1]]
    tb = root / "spam/title-blacklist"
    porn = PORN_TITLES + [w for w in _lines(tb / "raw/dict/porn.txt") if 2 <= len(w) <= 8]
    gamb = GAMBLING_BRANDS + [w for w in _lines(tb / "raw/dict/gambling.txt") if 2 <= len(w) <= 8]
    return Pools(docs, heads, _split_list(gamb, split, "brand"), _split_list(porn, split, "porn"))


# ------------------------------------------------------------------------------------ helpers

def sentences(text: str) -> list[str]:
    return [s.strip() for s in SENT.findall(text) if len(s.strip()) >= 6]


def _spliced_body(rng: random.Random, pools: Pools, n_docs: int, n_sent: int) -> str:
    picked = []
    for _, text in rng.sample(pools.docs, n_docs):
        sents = sentences(text)
        if sents:
            k = rng.randint(1, min(4, len(sents)))
            start = rng.randrange(len(sents) - k + 1)
            picked.append(sents[start:start + k])
    flat = [s for chunk in picked for s in chunk][:n_sent]
    rng.shuffle(flat)
    paras, cur = [], []
    for s in flat:
        cur.append(s)
        if len(cur) >= rng.randint(2, 5):
            paras.append("".join(cur))
            cur = []
    return "\n".join(paras + (["".join(cur)] if cur else []))


def _fill(template: str, rng: random.Random, product: str = "") -> str:
    return template.format(phone=f"1{rng.randint(3, 9)}{rng.randint(0, 10**9 - 1):09d}",
                           wx=f"{rng.choice('abcdefghjk')}{rng.randint(10000, 999999)}",
                           qq=rng.randint(10**7, 10**10), price=rng.randint(9, 999), product=product,
                           url=f"www.{rng.randint(100, 99999)}{rng.choice(['.com', '.cc', '.vip', '.net'])}",
                           n=rng.randint(10**7, 10**8))


def _doc(rng: random.Random, pools: Pools, min_chars: int = 300) -> tuple[str, str]:
    for _ in range(20):
        title, text = rng.choice(pools.docs)
        if len(text) >= min_chars:
            return title, text
    return rng.choice(pools.docs)


# ------------------------------------------------------------------------------------ generators

def gambling_title_over_news(rng: random.Random, pools: Pools) -> str:
    brand = rng.choice(pools.gambling_brands)
    title = rng.choice(["{b}-{b}{w}", "{b}{w}_{w2}", "{b}|{w}|{h}", "{h}-{b}{w}", "【{b}】{w}{w2}"]).format(
        b=brand, w=rng.choice(GAMBLING_WORDS), w2=rng.choice(GAMBLING_WORDS), h=rng.choice(pools.headlines))
    body = _spliced_body(rng, pools, rng.randint(2, 6), rng.randint(6, 20)) if rng.random() < 0.6 \
        else _doc(rng, pools)[1]
    tail = [f"{brand}{rng.choice(GAMBLING_WORDS)}" for _ in range(rng.randint(0, 3))]
    return "\n".join([title, body] + tail)


def brand_in_news(rng: random.Random, pools: Pools) -> str:
    """A real article with a casino brand swapped into the byline and a few sentences."""
    title, text = _doc(rng, pools)
    brand = rng.choice(pools.gambling_brands)
    sents = sentences(text)
    for i in rng.sample(range(len(sents)), min(len(sents), rng.randint(1, 3))):
        sents[i] = rng.choice(["据{b}报道，", "{b}讯 ", "{b}获悉，", "{b}（{w}）表示，"]).format(
            b=brand, w=rng.choice(GAMBLING_WORDS)) + sents[i]
    head = rng.choice([f"{title}_{brand}", f"{brand}{rng.choice(GAMBLING_WORDS)}-{title}", title])
    return head + "\n" + "".join(sents)


def porn_title_over_text(rng: random.Random, pools: Pools) -> str:
    terms = rng.sample(pools.porn_terms, min(len(pools.porn_terms), rng.randint(2, 4)))
    title = rng.choice(["_", "-", "|", ","]).join(terms)
    lines = [title] + ([_spliced_body(rng, pools, rng.randint(2, 5), rng.randint(4, 14))]
                       if rng.random() < 0.7 else [])
    lines += [rng.choice(pools.porn_terms) + rng.choice(["", "在线观看", "高清", f"第{rng.randint(1, 99)}集"])
              for _ in range(rng.randint(3, 15))]
    return "\n".join(lines)


def spliced(rng: random.Random, pools: Pools) -> str:
    title = rng.choice(pools.headlines)
    return title + "\n" + _spliced_body(rng, pools, rng.randint(4, 10), rng.randint(8, 30))


def keyword_inserted(rng: random.Random, pools: Pools) -> str:
    title, text = _doc(rng, pools)
    kw = rng.choice(pools.gambling_brands + pools.porn_terms + AD_PRODUCTS)
    out = []
    for i, s in enumerate(sentences(text)):
        out.append(s)
        if i % 2 == 1:
            out.append(rng.choice(["{k}", "{k}，", "（{k}）", "{k}。"]).format(k=kw))
    return f"{kw}_{title}\n" + "".join(out)


def injected(rng: random.Random, pools: Pools) -> str:
    """Punctuation or filler characters pushed inside words, as anti-copy or anti-filter sites do."""
    title, text = _doc(rng, pools)
    fill = rng.choice(["。", "，", "•", "·", "丶", "の", "ㄨ", "*"])
    out, i = [], 0
    while i < len(text):
        step = rng.randint(2, 5)
        out.append(text[i:i + step])
        out.append(fill)
        i += step
    return title + "\n" + "".join(out)


def spun(rng: random.Random, pools: Pools) -> str:
    """Synonym spinning; a page where fewer than three words could be spun is drawn again."""
    for _ in range(30):
        title, text = _doc(rng, pools)
        if sum(text.count(a) for a in SPIN) >= 3:
            break
    for a, b in SPIN.items():
        if rng.random() < 0.85:
            text = text.replace(a, b)
    sents = sentences(text)
    for i in range(len(sents) - 1):
        if rng.random() < 0.3:  # spinners also reorder clauses
            sents[i], sents[i + 1] = sents[i + 1], sents[i]
    return title + "\n" + "".join(sents)


def catalogue_list(rng: random.Random, pools: Pools) -> str:
    """Headline lists as extractors render them: plain, dated, ranked with counts, or as `- ` bullets
    (trafilatura's rendering of <li>), between a little navigation and a footer."""
    lines = rng.sample(NAV_LINES, rng.randint(0, 6))
    style = rng.choice(["{h}", "{h} {d}", "·{h}", "[{c}] {h}", "{h}（{n}评）", "- {h}", "- {i} {h} {n}",
                        "{i}. {h}", "- [{c}] {h} {d}"])
    for i in range(1, rng.randint(6, 40)):
        h = rng.choice(pools.headlines)
        lines.append(style.format(
            h=h,
            d=f"2{rng.randint(0, 2)}{rng.randint(10, 25)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            c=rng.choice(["国内", "国际", "财经", "体育", "娱乐", "科技"]), n=rng.randint(1, 199999), i=i))
    if rng.random() < 0.6:
        lines += [_fill(t, rng) for t in rng.sample(NAV_LINES, rng.randint(3, 10))]
    return "\n".join(lines)


def ads_marketing(rng: random.Random, pools: Pools) -> str:
    product = rng.choice(AD_PRODUCTS)
    lines = [f"{product}{rng.choice(['哪家好', '多少钱', '效果怎么样', '专业', '官方正品'])}"]
    for _ in range(rng.randint(5, 14)):
        lines.append(_fill(rng.choice(AD_LINES), rng, product) if rng.random() < 0.7
                     else rng.choice(sentences(_doc(rng, pools, 60)[1]) or ["优惠多多"]))
    return "\n".join(lines)


def boilerplate(rng: random.Random, pools: Pools) -> str:
    bullet = rng.choice(["", "- ", "", "· "])
    lines = [bullet + _fill(t, rng) + rng.choice(["", " |"])
             for t in rng.sample(NAV_LINES, rng.randint(8, 20))]
    lines += rng.sample(pools.headlines, rng.randint(0, 5))
    lines.append(f"Copyright © 20{rng.randint(10, 25)} 版权所有 {_fill('ICP备{n}号', rng)}")
    return "\n".join(lines)


GENERATORS = {
    "gambling_title_over_news": ("gambling_seo", gambling_title_over_news),
    "brand_in_news": ("gambling_seo", brand_in_news),
    "porn_title_over_text": ("porn", porn_title_over_text),
    "spliced": ("content_farm", spliced),
    "keyword_inserted": ("content_farm", keyword_inserted),
    "injected": ("content_farm", injected),
    "spun": ("content_farm", spun),
    "catalogue_list": ("catalogue_list", catalogue_list),
    "ads_marketing": ("ads_marketing", ads_marketing),
    "boilerplate": ("boilerplate_only", boilerplate),
}


# Spinner outputs that ordinary prose hardly uses (a spun page shows several; 可以, 以为, 办法 do not count).
_SPIN_MARKS = ("先容", "今朝", "感化", "经由过程", "该当", "可以或许", "透露表现", "钻研", "同一时间", "时光",
               "国度", "经济体", "开端", "成长")


def marks(kind: str, text: str) -> int | None:
    """How often a generated page shows what makes it farm (None: not counted for this kind). A
    keyword-inserted page with one keyword, or a spun page with one odd word, reads as its clean source,
    and teaching the model that its source is junk costs clean text (docs/eval.md, fifth round)."""
    if kind == "keyword_inserted":
        head, _, body = text.partition("\n")
        return body.count(head.split("_")[0]) if "_" in head else 0
    if kind == "spun":
        return sum(text.count(m) for m in _SPIN_MARKS)
    return None


def generate(kind: str, seed: int, pools: Pools) -> str:
    return GENERATORS[kind][1](random.Random(f"{kind}:{seed}"), pools)
