"""Generated web sites: N sites × M pages, each page a site template around a distinct article, with a
label per line (template or article), for measuring cross-page boilerplate removal.

The template of a site: a navigation bar, a breadcrumb (one of a few columns), share and follow widgets with
counters that change per page ("评论 37"), a footer, a login bar. The article: a title, paragraphs of real
Chinese Wikipedia sentences (`../shared/corpora/wiki-zh`), and the hard cases — section numbers ("01"),
a line an article repeats inside itself ("▲ 图为现场"), and short lines many articles share ("谢谢！",
"（完）", "图片来源：网络") at any position, including right before the footer.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

NAV = ["首页", "新闻", "国内", "国际", "财经", "科技", "体育", "娱乐", "汽车", "房产", "教育", "健康", "旅游",
       "军事", "文化", "视频", "图片", "专题", "评论", "读书"]
COLUMNS = ["国内新闻", "社会热点", "科技前沿", "财经观察", "文化生活"]
SHARE = ["分享到：", "微信", "微博", "QQ空间", "复制链接", "扫一扫，用手机看新闻"]
FOOTER = ["关于我们 | 联系我们 | 广告服务 | 招聘信息 | 网站地图", "Copyright © 2003-2024 {name} 版权所有",
          "{icp}号-1 互联网新闻信息服务许可证：{num}", "违法和不良信息举报电话：010-{tel}",
          "本网站所刊载信息，不代表本站观点。如需转载请注明来源。"]
WIDGETS = ["评论 {n}", "阅读 {n}", "点赞 {n}", "关注我们", "下载客户端", "登录 | 注册", "返回顶部"]
COMMON = ["谢谢！", "是的。", "（完）", "图片来源：网络", "记者：张伟", "资料图"]
REPEATED = ["▲ 图为现场", "点击查看大图", "答：", "问：", "图片", "视频"]


@dataclass
class Page:
    id: str
    site: str
    url: str
    lines: list[str]
    labels: list[str]  # "template" or "article", one per line

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def sentences(path: Path, limit: int = 20000) -> list[str]:
    """Sentences of the Simplified Chinese Wikipedia paragraphs, 12–120 characters each."""
    out: list[str] = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            for s in re.findall(r"[^。！？\s]+[。！？]", json.loads(line)["text"]):
                if 12 <= len(s) <= 120:
                    out.append(s)
            if len(out) >= limit:
                break
    return out


def site_template(rng: random.Random, i: int) -> dict:
    name = f"站点{i:03d}网"
    return {"name": name, "nav": [name] + rng.sample(NAV, rng.randint(8, 16)),
            "columns": rng.sample(COLUMNS, rng.randint(1, 3)),
            "share": SHARE[: rng.randint(3, len(SHARE))],
            "widgets": rng.sample(WIDGETS, rng.randint(2, 5)),
            "footer": [f.format(name=name, icp=f"京ICP备{rng.randint(10**7, 10**8)}",
                                num=rng.randint(10**4, 10**5),
                                tel=rng.randint(10**7, 10**8))
                                for f in FOOTER[: rng.randint(2, len(FOOTER))]]}


def article(rng: random.Random, pool: list[str]) -> list[str]:
    """Title, paragraphs, and the hard cases: section numbers, repeats inside, short shared lines."""
    lines = ["".join(rng.sample(pool, 1))[:28].rstrip("。！？，") ]
    sections = rng.random() < 0.3
    for k in range(rng.randint(3, 12)):
        if sections and k % 3 == 0:
            lines.append(f"0{k // 3 + 1}")
        lines.append("".join(rng.sample(pool, rng.randint(1, 3))))
        if rng.random() < 0.15:  # a caption: its own words, like a real one
            lines.append("▲ " + rng.choice(pool)[:rng.randint(6, 16)].rstrip("。！？，"))
    if rng.random() < 0.2:  # a line repeated inside this one article
        rep = rng.choice(REPEATED)
        for pos in sorted(rng.sample(range(1, len(lines)), min(2, len(lines) - 1)), reverse=True):
            lines.insert(pos, rep)
    for common in COMMON:
        if rng.random() < 0.15:
            lines.insert(rng.randint(1, len(lines)), common)
    return lines


def generate(sites: int, pages: int, wiki: Path, seed: int = 0) -> list[Page]:
    rng = random.Random(seed)
    pool = sentences(wiki)
    out = []
    for s in range(sites):
        t = site_template(rng, s)
        host = f"site{s:03d}.example.cn"
        for p in range(pages):
            head = t["nav"] + ["登录 | 注册"] + [f"当前位置：首页 > {rng.choice(t['columns'])} > 正文"]
            body = article(rng, pool)
            mid = [f"发布时间：2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)} "
                   f"1{rng.randint(0, 9)}:2{rng.randint(0, 9)}"] + \
                t["share"]
            tail = [w.format(n=rng.randint(0, 9999)) for w in t["widgets"]] + t["footer"]
            lines = head + [body[0]] + mid + body[1:] + tail
            labels = ["template"] * len(head) + ["article"] + ["template"] * len(mid) + \
                ["article"] * (len(body) - 1) + ["template"] * len(tail)
            out.append(Page(f"{host}/{p}", host, f"https://{host}/a/{p}.html", lines, labels))
    rng.shuffle(out)
    return out
