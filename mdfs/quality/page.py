"""What the page model reads: title, domain, the beginning, middle and end of the body, and signals.

Content farms hide in the parts a prefix never sees: a gambling brand in the title over scraped news, a
brand swapped into the byline, spliced paragraphs further down, a link list at the end. So the model's
input line is built from the title (the first line, tokens marked `t:`), the host (`d:` tokens, only for
a spam-prone TLD, a numeric domain or a listed content-farm domain), three pieces of the body,
and binned signals as pseudo-words (`f:` tokens: brand hits in the title and body, the fluency model's
perplexity and high-perplexity share, line shape). fastText weighs them all in one linear model, which
is what keeps it fast; the bins are coarse so that no single value is memorised.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mdfs.bundled import bundled
from mdfs.textnorm import CHAR_TOKEN
from mdfs.hosts import site

INPUT_VERSION = "page-v3"
TITLE_CHARS, BEGIN, MIDDLE, END = 64, 500, 250, 250
LEXICONS = bundled("mdfs.stages", "lexicons")
# Words that turn a brand in a title into an SEO title: nobody writes news titled "<casino> 官网 app 下载".
SEO_WORDS = re.compile(r"官网|官方网站|下载|注册|登录|登陆|入口|开户|网址|平台|app|APP|手机版|网页版"
                       r"|在线|首页|娱乐|开奖|投注|棋牌|彩金|真人|赔率|计划|导航|资料")
# The register of gambling SEO titles, brand or no brand: odds, lottery draws, platforms, sign-up links.
GAMBLING_REGISTER = re.compile(SEO_WORDS.pattern + r"|彩票|时时彩|六合彩|快三|百家乐|老虎机|捕鱼|赔率"
                               r"|盘口|下注|彩金|送彩|信誉|靠谱|哪个好|排行|推荐")
# Who a news item says it comes from (据…报道, …讯, …获悉, …（…）表示): a casino swapped into the byline of
# real news is a source name that no news outlet has, whatever the brand list knows. The markers are
# found with str.find and the name read next to them: a pattern with no literal prefix scanned every
# position of the text and took 100 µs a document.
SOURCE_AFTER = re.compile(r"据([^，。、\s]{2,10}?)(?:报道|消息|获悉)")
_NAME_BEFORE = re.compile(r"([^，。、\s（）]{2,10})$")
_DELIMS = re.compile(r"[，、\s]")
HAN = re.compile(r"[\u4e00-\u9fff]")
_SPAM_TLDS = {"xyz", "site", "top", "vip", "cc", "info", "club", "online", "icu", "win", "bet", "live",
              "shop", "ltd", "tk", "pw", "work", "fun", "wang", "ren", "loan", "click", "link", "space",
              "website"}


def split_title(text: str) -> tuple[str, str]:
    """The first non-empty line is the title when it is short; the rest is the body."""
    stripped = text.lstrip()
    head, _, rest = stripped.partition("\n")
    return (head.strip(), rest) if len(head) <= 120 else ("", stripped)


def body_sample(body: str) -> str:
    """Beginning, middle and end of the body: bounded input that still sees all three parts."""
    n = len(body)
    if n <= BEGIN + MIDDLE + END:
        return body
    mid = n // 2 - MIDDLE // 2
    return " ".join((body[:BEGIN], body[mid:mid + MIDDLE], body[n - END:]))


def host_tokens(url: str | None, listed: set[str] | frozenset = frozenset()) -> list[str]:
    """Only what marks a host as spam-prone: a bought-in-bulk numeric domain, a spam-prone TLD, a listed
    content-farm domain. An ordinary host and no URL at all give no token: clean training text mostly
    comes without a URL, so a token for "has a URL" would teach the model that URLs mean junk."""
    host = site(url) or ""
    if not host or host.endswith(".invalid"):
        return []
    parts = host.split(".")
    out = []
    if parts[-1] in _SPAM_TLDS:
        out.append("d:spamtld")
    if len(parts) > 1 and sum(c.isdigit() for c in parts[-2]) >= 3:
        out.append("d:digits")  # 037426.cn, 0513mt.com: bought-in-bulk numeric domains
    if any(".".join(parts[i:]) in listed for i in range(len(parts) - 1)):
        out.append("d:listed")
    return out


def title_overlap(title: str, sample: str) -> float:
    """Share of the title's distinct Han characters (SEO words aside) found in the body sample; -1 when the
    title has fewer than two or there is no body. A gambling title over scraped news shares almost
    nothing with its body."""
    han = set(HAN.findall(SEO_WORDS.sub("", title)))
    return sum(c in sample for c in han) / len(han) if len(han) >= 2 and sample else -1.0


def topic_tokens(page: PageText) -> list[str]:
    """Signals that need no brand list: how well the title matches the body, a gambling-register title,
    and the characters of the sources the body names (`s:` tokens). Caveat: the clean training texts
    mostly come without a title line, so the overlap token also tells the model whether a page has a
    title at all (docs/eval.md, fifth round: verse, whose titles the body does not repeat, reads as farm)."""
    share = title_overlap(page.title, page.sample)
    out = ["f:tovx" if share < 0 else f"f:tov{_bin(share, (0.25, 0.5, 0.75, 0.9))}"]
    if GAMBLING_REGISTER.search(page.title):
        out.append("f:gregt")
    out += ["s:" + c for name in sources(page.sample[:BEGIN]) for c in CHAR_TOKEN.findall(name)]
    return out


def sources(text: str, limit: int = 3) -> list[str]:
    """The first `limit` source names a news text gives, in text order: 据<name>报道/消息/获悉, a line or
    sentence that opens with <name>讯 or <name>获悉, and <name>（…）表示."""
    found = [(m.start(), m.group(1)) for m in SOURCE_AFTER.finditer(text)] if "据" in text else []
    for marker in ("讯", "获悉"):
        at = text.find(marker)
        while at >= 0:
            start = max(text.rfind("。", 0, at), text.rfind("\n", 0, at)) + 1
            name = text[start:at]
            if 2 <= len(name) <= 10 and not _DELIMS.search(name) and not name.startswith("据"):
                found.append((start, name))
            at = text.find(marker, at + 1)
    at = text.find("）表示")
    while at >= 0:
        paren = text.rfind("（", max(at - 13, 0), at)
        m = _NAME_BEFORE.search(text, max(paren - 10, 0), paren) if paren > 0 else None
        if m:
            found.append((m.start(), m.group(1)))
        at = text.find("）表示", at + 1)
    return [name for _, name in sorted(found)[:limit]]


def _bin(value: float, edges: tuple[float, ...]) -> int:
    return bisect_right(edges, value)


@dataclass
class Signals:
    """Per-document numbers that become `f:` tokens and columns."""

    brand_title: int = 0
    brand_body: int = 0
    seo_title: bool = False
    ppl: float = 0.0
    high_share: float = 0.0

    def tokens(self, text: str) -> list[str]:
        lines = [ln for ln in text.split("\n") if ln.strip()]
        short = sum(len(ln) < 20 for ln in lines) / max(len(lines), 1)
        out = [f"f:bt{min(self.brand_title, 2)}", f"f:bb{_bin(self.brand_body, (1, 2, 4, 8))}",
               f"f:lines{_bin(len(lines), (3, 8, 20, 50))}", f"f:short{_bin(short, (0.2, 0.4, 0.6, 0.8))}",
               f"f:len{_bin(len(text), (200, 500, 1500, 5000))}"]
        if self.brand_title and self.seo_title:
            out.append("f:brandseo")
        if self.ppl > 0:
            out += [f"f:ppl{_bin(self.ppl, (60, 120, 200, 300, 500))}",
                    f"f:hs{_bin(self.high_share, (0.1, 0.3, 0.5, 0.7))}"]
        return out


@dataclass(frozen=True)
class PageText:
    """A document cut once into what the page model reads: its title and its bounded body sample."""

    text: str
    title: str
    sample: str

    @classmethod
    def of(cls, text: str) -> PageText:
        title, body = split_title(text)
        return cls(text, title, body_sample(body))


def page_line(page: PageText, url: str | None, signals: Signals,
              listed: frozenset | set = frozenset()) -> str:
    """One fastText input line for a document."""
    parts = [" ".join("t:" + t for t in CHAR_TOKEN.findall(page.title, 0, TITLE_CHARS))]
    parts += host_tokens(url, listed) + signals.tokens(page.text) + topic_tokens(page)
    parts.append(" ".join(CHAR_TOKEN.findall(page.sample)))
    return " ".join(p for p in parts if p)


def page_inputs(texts: list[str], urls: list[str | None], lm, brands: BrandMatcher | None,
                listed: frozenset | set = frozenset()) -> tuple[list[str], list[Signals], list[list[str]]]:
    """The page model's input lines, each document's signals and the brands found: one path for the
    quality stage and for training, so the model is always scored on what it was trained on."""
    n = len(texts)
    ppl, share = lm.score_docs(texts) if lm is not None else (np.zeros(n, np.float32),) * 2
    lines, signals, names = [], [], []
    for text, url, p, h in zip(texts, urls, ppl, share):
        page = PageText.of(text)
        bt, bb, seo, found = brands.signals(page) if brands is not None else (0, 0, False, [])
        sig = Signals(bt, bb, seo, float(p), float(h))
        lines.append(page_line(page, url, sig, listed))
        signals.append(sig)
        names.append(found)
    return lines, signals, names


class BrandMatcher:
    """Gambling and porn brand names (stages/lexicons/brands_*.txt) found in a title and in a body."""

    def __init__(self, files: list[Path] | None = None):
        import ahocorasick_rs

        from mdfs.stages.rules.lexicon import read_terms

        terms = {term.strip().lower() for path in files or sorted(LEXICONS.glob("brands_*.txt"))
                 for term, exception in read_terms(Path(path)) if not exception and term.strip()}
        self._ac = ahocorasick_rs.AhoCorasick(sorted(terms),
                                              matchkind=ahocorasick_rs.MatchKind.LeftmostLongest)

    def hits(self, text: str) -> list[str]:
        lowered = text.lower()  # sliced itself: lower() can change the length of non-Chinese text
        return [lowered[s:e] for _, s, e in self._ac.find_matches_as_indexes(lowered)]

    def signals(self, page: PageText) -> tuple[int, int, bool, list[str]]:
        """(distinct brands in the title, brand hits in the body, SEO words in the title, the brands)."""
        in_title = sorted(set(self.hits(page.title)))
        in_body = self.hits(page.sample)
        seo = bool(SEO_WORDS.search(page.title))
        return len(in_title), len(in_body), seo, in_title + sorted(set(in_body))


def read_domain_lists(files: list[str]) -> frozenset[str]:
    """Domains, one per line; uBlacklist-style `*://*.example.com/*` patterns are reduced to the host."""
    out = set()
    for path in files:
        for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
            line = line.strip().lower()
            if not line or line.startswith(("#", "!")):
                continue
            if line.startswith("{"):
                import json

                line = str(json.loads(line).get("domain", "")).lower()
            host = re.sub(r"^\*?:?/*|^\*\.|/.*$", "", line.split("://")[-1]).lstrip("*.").removeprefix("www.")
            if "." in host and "*" not in host:
                out.add(host)
    return frozenset(out)
