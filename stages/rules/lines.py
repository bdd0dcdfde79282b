"""Line-level cleaning: the document is kept, its junk lines are removed.

Web text extracted from HTML keeps navigation bars, breadcrumbs, copyright and ICP footers, share
buttons, editor credits, link lists and rows of symbols; some sites also inject pinyin after characters
(參數(shù)) to defeat copying. Every rule here is a vectorised RE2 test on the Arrow array of all lines of a
batch (or a count from `CharView`), and every removed line is attributed to the first rule that matched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from mdfs.config import Strict
from mdfs.stages.rules.chars import HAN, LATIN, PUNCT, SPACE, SYMBOL, CharView, ratio

# Lines that only ever occur in page chrome. Start-anchored where the words also occur in prose
# ("我在上一篇文章里说过…" is prose; "上一篇：…" at the start of a short line is navigation).
BOILERPLATE = [
    r"^[\s【\[(（<《]*(?:上一篇|下一篇|上一页|下一页|上一章|下一章|上一条|下一条|上篇|下篇)",
    r"^[\s【\[(（]*(?:责任编辑|责编|本文编辑|编辑|审核|校对|来源|作者|原标题)\s*[:：|｜]",
    r"^[\s【\[(（]*责任编辑",
    (r"^\s*版权所有|版权所有\s*[:：©(（]|版权所有.{0,30}(?:©|\d{4}|icp)|(?:©|copyright).{0,40}版权所有|"
     r"^.{0,20}版权归.{0,12}所有|all rights reserved|copyright\s*(?:©|\(c\)|\d{4})|^\s*©"),
    r"icp\s*[备证]|icp\d{6,}|公网安备|网安备\d|增值电信业务经营许可证|网络文化经营许可证",
    (r"未经.{0,10}(?:授权|许可|同意).{0,10}(?:不得|禁止|严禁|请勿|谢绝).{0,6}(?:转载|复制|使用)|"
     r"转载请注明|转载.{0,4}请?注明(?:出处|来源|作者)"),
    # platform disclaimers under articles (the comment box's own lines, 目前没有跟贴 and
    # 评论仅供其表达个人看法,
    # are left: cutting them tipped a held-out news page of the development set over the page model's list
    # threshold, p(list) 0.520 against 0.5)
    r"^[\s“\"]*(?:特别声明|免责声明)\s*[:：]\s*以上|^notice:\s*the content above",
    # disclaimers and page counters
    r"如有侵权|侵权请联系|版权均?归.{0,12}所有|本站.{0,6}(?:内容|资源|视频|图片|文章)均?(?:来自|来源于|收集于|转载自)",
    r"^[\s(（\[【]*(?:点击|浏览|阅读|人气|访问)(?:次数|数|量|率)?\s*[:：]\s*\d+\s*(?:次)?[)）\]】]*\s*$",
    r"^[\s【\[(（]*(?:分享到|分享至|一键分享|扫一扫|扫描二维码|扫码关注|长按识别|关注我们|关注微信公众号)",
    r"扫一扫.{0,12}(?:关注|分享|下载|手机)",
    # share widgets' instructions and comment counters
    (r"^[\s【\[(（]*(?:分享让更多人看到|请使用浏览器(?:的)?分享功能|点击右上角.{0,8}(?:微信|分享|朋友圈)|"
     r"点击浏览器下方|登录后(?:您|你)?(?:可以|即可|才能))"),
    r"^\s*\d+\s*人参与\s*\d+\s*(?:条)?评论\s*$|\d(?:\.\d)?万?次(?:浏览|阅读|播放)\s*$",
    (r"^[\s【\[(（]*(?:相关阅读|相关文章|相关新闻|相关推荐|同类推荐|推荐阅读|延伸阅读|热门推荐|热门文章|猜你喜欢|"
     r"精彩推荐|更多精彩|往期回顾|大家都在看)"),
    (r"^[\s【\[(（]*(?:点击查看|点击进入|点击这里|点击阅读|点击下载|点此查看|查看更多|查看全文|阅读全文|"
     r"展开全文|阅读原文|更多>+|more>+)"),
    (r"^[\s【\[(（]*(?:返回顶部|回到顶部|返回首页|返回列表|设为首页|加入收藏|收藏本站|打印本页|关闭窗口|"
     r"网站地图|免责声明|友情链接)"),
    r"^[\s【\[(（]*(?:字号|字体)\s*[:：]?\s*[大中小]|^\s*(?:【(?:打印|关闭|收藏|评论|纠错)】\s*)+$",
    r"^[\s【\[(（]*(?:发布时间|发布日期|更新时间|发表时间|时间|日期)\s*[:：]\s*\d{4}",
    r"^\s*(?:发布于|发表于)\s*\d{4}[-/年]",
    r"^\s*\d{4}[-/年]\d{1,2}[-/月]\d{1,2}日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?\s*$",  # a date alone
    # a bare counter (likes, replies) and a poster's IP region ("IP属地：上海", or a place name alone)
    r"^\s*\d{1,6}\s*$|^[\s(（]*ip\s*属地|^\s*(?:\p{Han}{2,3}(?:省|自治区))?\p{Han}{2,4}市\s*$",
    r"违法和不良信息举报|举报电话\s*[:：]|举报邮箱\s*[:：]",
    # a line made only of navigation words
    (r"^[\s|｜/·•»›>-]*(?:(?:首页|登录|注册|退出|帮助|搜索|联系我们|关于我们|网站首页|手机版|电脑版|"
     r"客户端|English|RSS|网站导航|繁體|简体|繁体|朋友圈|微信好友|QQ空间|新浪微博|举报|目录|更多回答|"
     r"没有更多了|暂无数据|加载更多|热门|最新|默认|评论|回复|点赞)[\s|｜/·•»›>-]*)+$"),
]
# Item separators of navigation bars and breadcrumbs; a plain space separates items only in lines of
# bare Chinese words (网站首页 新闻中心 政务公开), never in Latin or punctuated text.
SEPARATORS = r"\s*(?:[|｜│¦»›>]|\s[/·•]\s|»|›)\s*"
SPACED = r"\s+"
URL = r"(?:https?://|www\.)[^\s<>\"'（）【】，。；！？]+"
# Pinyin with at least one tone mark, in parentheses straight after a character: 參數(shù) → 參數.
PINYIN_ANNOTATION = (r"(\p{Han})[(（]\s*[a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ][a-zü]*"
                     r"(?:\s+[a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ][a-zü]*)*\s*[)）]")

# The heading of a list of links to other pages: related, recommended or popular articles, tags. Whole line.
RELATED_HEADING = (
    r"^[\s【\[(（<《|｜-]*(?:(?:相关|推荐|热门|精彩|最新|往期|更多|热点)(?:阅读|文章|新闻|资讯|推荐|问答|经验|话题|视频|"
    r"帖子|专题|链接|标签)|(?:你|您)?可能(?:还|也)?(?:想看|喜欢|感兴趣)|(?:其他人|大家|网友)(?:都|也|还)在看|"
    r"猜你喜欢|延伸阅读|本文标签|\p{Han}{0,6}推荐)[\s】\])）>》:：|｜]*(?:更多)?[\s>》]*$")
# Headings after which a page holds only other pages' teasers (你可能还想看, 其他人也在看, 相关阅读, …): the
# heading and everything after it are cut (`related_tail`), when enough text precedes it
TAIL_HEADING = (
    r"^[\s【\[(（<《|｜-]*(?:你可能还想看|你可能也喜欢|(?:其他人|大家|网友)(?:都|也|还)在看|猜你喜欢|为(?:你|您)推荐|"
    r"热门推荐|相关阅读|相关文章|相关新闻|推荐阅读|延伸阅读|相关推荐|精彩推荐)[\s】\])）>》:：|｜]*(?:更多)?[\s>》]*$")
# An item of an extracted list (trafilatura writes "- "), as the bullet-line rule counts them
LIST_ITEM = r"^\s*(?:[•·●○◦▪▫■□◆◇►▶➢➤→-]\s*|\*\s)\S"

RULES = ("boilerplate", "link_list", "url_line", "symbol_line", "related_list")


class LineCleaning(Strict):
    """Which junk lines to remove; `false`/null switches a rule off."""

    boilerplate: bool = True
    boilerplate_max_chars: int = Field(80, ge=1, description="longer lines are never boilerplate")
    extra_boilerplate: list[str] = Field(default_factory=list,
                                         description="more RE2 patterns (case-insensitive) for boilerplate")
    link_lists: bool = True
    link_list_min_items: int = Field(3, ge=2, description="separated items in a navigation line")
    link_list_max_item_chars: float = Field(8.0, gt=0, description="mean visible characters per item")
    max_url_line_ratio: float | None = Field(0.6, ge=0, le=1, description="URL characters / line characters")
    max_symbol_line_ratio: float | None = Field(0.6, ge=0, le=1,
                                                description="symbols and punctuation / visible characters")
    pinyin_annotations: bool = True
    # a related-articles heading (相关阅读, 你可能还想看, 健康资讯推荐, 本文标签, …) and the list items
    # right under it
    related_lists: bool = True
    related_min_items: int = Field(3, ge=1, description="list items under the heading needed to cut the list")
    related_item_max_chars: int = Field(120, ge=1, description="longer items are not headlines: not cut")
    # the tail of a page from a heading such as 你可能还想看 or 相关阅读 on, when this many visible
    # characters come before it (a heading at the top of the extracted text is a sidebar's, not the page's
    # end); null: off
    related_tail_min_before: int | None = Field(50, ge=0)


TONE_MARKS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"


@dataclass
class Cleaned:
    """The outcome of line cleaning for one batch."""

    text: pa.ChunkedArray | pa.Array  # documents with junk lines removed
    lines: pa.Array                    # the kept lines, flattened
    parents: np.ndarray                # document index of each kept line
    visible: np.ndarray                # visible characters of each kept line
    url_chars: np.ndarray              # characters inside URLs of each kept line
    view: CharView                     # characters of the kept lines
    han: np.ndarray                    # Han characters of each kept line
    counters: dict[str, int]


def _scatter(n: int, where: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.zeros(n, bool)
    out[where] = values
    return out


def _bool(arr) -> np.ndarray:
    return arr.to_numpy(zero_copy_only=False).astype(bool)


def _rebuild(lines: pa.Array, keep: np.ndarray, parents: np.ndarray, empty: np.ndarray,
             n_docs: int) -> pa.Array:
    """Join the kept lines back into documents, dropping the blank lines that removals left at the start,
    at the end or next to another blank line."""
    idx = np.flatnonzero(keep)
    doc, blank = parents[idx], empty[idx]
    first = np.r_[True, doc[1:] != doc[:-1]]
    last = np.r_[doc[1:] != doc[:-1], True]
    prev_blank = np.r_[False, blank[:-1]] & ~first
    drop = blank & (first | last | prev_blank)
    keep = keep.copy()
    keep[idx[drop]] = False
    offsets = np.zeros(n_docs + 1, np.int32)
    np.cumsum(np.bincount(parents[keep], minlength=n_docs), out=offsets[1:])
    listed = pa.ListArray.from_arrays(pa.array(offsets), lines.filter(pa.array(keep)))
    return pc.binary_join(listed, "\n"), keep


class LineCleaner:
    def __init__(self, params: LineCleaning):
        self.p = params
        patterns = BOILERPLATE + list(params.extra_boilerplate)
        self.boilerplate = "(?i)(?:" + "|".join(f"(?:{p})" for p in patterns) + ")"
        self.tone = np.zeros(0x110000, bool)
        self.tone[[ord(c) for c in TONE_MARKS]] = True

    def remove_pinyin(self, text: pa.ChunkedArray | pa.Array, view: CharView,
                      counters: dict) -> tuple[pa.ChunkedArray | pa.Array, bool]:
        """Remove tone-marked pinyin in parentheses after a character; only documents that contain a
        tone mark at all (a table look-up on the code points) are searched."""
        for key in ("annotations_removed__pinyin", "chars_removed__pinyin"):
            counters[key] = 0
        if not self.p.pinyin_annotations or not len(view.cp):
            return text, False
        latin = np.flatnonzero(view.cls == LATIN)  # tone-marked vowels are Latin letters: look only there
        marked = latin[self.tone[view.cp[latin]]]
        if not len(marked):
            return text, False
        rows = np.unique(view.doc[marked])
        sub = pc.take(text, pa.array(rows))
        found = pc.count_substring_regex(sub, PINYIN_ANNOTATION)
        n_found = pc.sum(found).as_py() or 0
        if not n_found:
            return text, False
        cleaned = pc.replace_substring_regex(sub, PINYIN_ANNOTATION, r"\1")
        counters["annotations_removed__pinyin"] = n_found
        counters["chars_removed__pinyin"] = (pc.sum(pc.utf8_length(sub)).as_py()
                                             - pc.sum(pc.utf8_length(cleaned)).as_py())
        mask = _scatter(len(text), rows, np.ones(len(rows), bool))
        return pc.replace_with_mask(text, pa.array(mask), cleaned), True

    def link_lists(self, lines: pa.Array, per_line: np.ndarray, visible: np.ndarray) -> np.ndarray:
        """Lines that are lists of short links (a navigation bar): many separators, short items."""
        # navigation bars have no sentence-ending punctuation; only those lines are counted
        cand = np.flatnonzero((visible >= self.p.link_list_min_items)
                              & ~_bool(pc.match_substring_regex(lines, r"[。！？；]")))
        if not len(cand):
            return np.zeros(len(lines), bool)
        sub = lines.take(pa.array(cand))
        seps = pc.count_substring_regex(sub, SEPARATORS).to_numpy(zero_copy_only=False)
        # space-separated items count only in lines of Chinese words with no punctuation at all,
        # and need one item more: chat lines use spaces as commas ("可以的 好好休息 年后继续努力")
        rows = per_line[cand]
        bare = ((rows[:, [PUNCT, SYMBOL, LATIN]].sum(axis=1) == 0) & (rows[:, HAN] >= 0.6 * visible[cand])
                & (seps == 0))
        spaced = pc.count_substring_regex(sub, SPACED).to_numpy(zero_copy_only=False)
        seps = np.where(bare & (spaced >= self.p.link_list_min_items), spaced, seps)
        items = seps + 1
        mean_item = (visible[cand] - seps) / items
        hit = (items >= self.p.link_list_min_items) & (mean_item <= self.p.link_list_max_item_chars)
        return _scatter(len(lines), cand, hit)

    def clean(self, text: pa.ChunkedArray | pa.Array) -> Cleaned:
        counters: dict[str, int] = {}
        text = pc.fill_null(text, "")
        if isinstance(text, pa.ChunkedArray):
            text = text.combine_chunks()
        view = CharView.of(text)
        text, changed = self.remove_pinyin(text, view, counters)
        if changed:
            view = CharView.of(text)
        n_docs = len(text)
        listed = pc.split_pattern(text, "\n")
        lines = pc.list_flatten(listed)
        parents = pc.list_parent_indices(listed).to_numpy().astype(np.int64)
        per_line = view.counts("line")
        visible = per_line.sum(axis=1) - per_line[:, SPACE]
        n = len(lines)
        removed_by = np.full(n, -1, np.int8)
        url_chars = np.zeros(n, np.int64)

        def mark(rule: int, mask: np.ndarray) -> None:
            removed_by[(removed_by < 0) & mask] = rule

        if self.p.boilerplate:
            cand = np.flatnonzero((visible > 0) & (visible <= self.p.boilerplate_max_chars))
            if len(cand):
                hit = pc.match_substring_regex(lines.take(pa.array(cand)), self.boilerplate)
                mark(0, _scatter(n, cand, _bool(hit)))
        if self.p.link_lists:
            mark(1, self.link_lists(lines, per_line, visible))
        # literal searches (fast in RE2) find the few lines with a URL; their URL characters are counted
        # once, for the URL-line rule here and the document's URL density later
        has_url = (_bool(pc.match_substring_regex(lines, "://"))
                   | _bool(pc.match_substring_regex(lines, r"www\.")))
        cand = np.flatnonzero(has_url)
        if len(cand):
            sub = lines.take(pa.array(cand))
            without = pc.replace_substring_regex(sub, URL, "")
            inside = pc.subtract(pc.utf8_length(sub), pc.utf8_length(without))
            url_chars[cand] = inside.to_numpy(zero_copy_only=False)
            if self.p.max_url_line_ratio is not None:
                mark(2, ratio(url_chars, visible) >= self.p.max_url_line_ratio)
        if self.p.max_symbol_line_ratio is not None:
            junk = per_line[:, SYMBOL] + per_line[:, PUNCT]
            mark(3, (visible > 0) & (ratio(junk, visible) >= self.p.max_symbol_line_ratio))
        if self.p.related_lists:
            mark(4, related_list_lines(lines, parents, visible, self.p.related_min_items,
                                       self.p.related_item_max_chars, self.p.related_tail_min_before))

        keep = removed_by < 0
        line_chars = pc.utf8_length(lines).to_numpy(zero_copy_only=False)
        for i, rule in enumerate(RULES):
            gone = removed_by == i
            counters[f"lines_removed__{rule}"] = int(gone.sum())
            counters[f"chars_removed__{rule}"] = int(line_chars[gone].sum())
        han = per_line[:, HAN]
        if keep.all():
            return Cleaned(text, lines, parents, visible, url_chars, view, han, counters)
        cleaned, keep = _rebuild(lines, keep, parents, line_chars == 0, n_docs)
        return Cleaned(cleaned, lines.filter(pa.array(keep)), parents[keep], visible[keep], url_chars[keep],
                       view.subset(keep), han[keep], counters)


def related_list_lines(lines: pa.Array, parents: np.ndarray, visible: np.ndarray, min_items: int,
                       item_max_chars: int, tail_min_before: int | None = None,
                       heading_max_chars: int = 24) -> np.ndarray:
    """Lines of "related articles" lists: a short heading line (`RELATED_HEADING`) followed, blank lines
    aside, by at least `min_items` list items of at most `item_max_chars` visible characters; the heading
    and its items are marked. A list under any other heading, and items after the first line that is not
    a short list item, are left alone. With `tail_min_before`, a `TAIL_HEADING` line with at least that
    many visible characters before it in its document is marked with every line after it."""
    n = len(lines)
    out = np.zeros(n, bool)
    blank = visible == 0
    short = ~blank & (visible <= heading_max_chars)
    cand = np.flatnonzero(short)
    if not len(cand):
        return out
    sub = lines.take(pa.array(cand))
    heading = _scatter(n, cand, _bool(pc.match_substring_regex(sub, "(?i)" + RELATED_HEADING)))
    if not heading.any():
        return out
    if tail_min_before is not None:
        tail = _scatter(n, cand, _bool(pc.match_substring_regex(sub, TAIL_HEADING)))
        if tail.any():
            first = np.r_[True, parents[1:] != parents[:-1]]  # lines are in document order
            before = np.cumsum(visible) - visible
            before -= np.maximum.accumulate(np.where(first, before, 0))
            start = tail & (before >= tail_min_before)
            seen = np.cumsum(start)
            seen -= np.maximum.accumulate(np.where(first, seen - start, 0))
            out |= seen > 0
    item = _bool(pc.match_substring_regex(lines, LIST_ITEM)) & ~blank & (visible <= item_max_chars)
    # the anchor of a line: the last line at or before it that is neither blank nor an item
    pos = np.arange(n)
    anchor = np.maximum.accumulate(np.where(blank | item, -1, pos))
    has = anchor >= 0
    safe = np.where(has, anchor, 0)
    under = item & has & heading[safe] & (parents[safe] == parents)
    counts = np.bincount(safe[under], minlength=n)
    enough = counts >= min_items
    return out | (under & enough[safe]) | (heading & enough)
