"""The shared corpora as labelled source families, and the one train/test split every script uses.

Each document comes from a *family* (a corpus or a site network) and a *group* (a site, a Wikipedia
title, a newsletter issue): groups never straddle the split, so a site or title the models were
tuned on is never in the held-out side. `side()` is a seeded hash of family and group, so the split is
the same for the page model, the fluency model and the development set without any shared state.

Run-time scripts only: read from `../shared/corpora` (or `$MDFS_SHARED/corpora`); nothing here ships
text into the repository.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mdfs.goldtext import shared_corpora
from mdfs.hosts import site

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "stages" / "models"  # the bundled models these tools write
TEST_PERCENT = 35  # share of groups per family held out


corpora_dir = shared_corpora  # ../shared/corpora, or $MDFS_SHARED/corpora


def side(family: str, group: str, test_percent: int = TEST_PERCENT) -> str:
    """'test' for a stable `test_percent` share of each family's groups, else 'train'."""
    h = int(hashlib.sha1(f"mdfs-dev-v1:{family}:{group}".encode()).hexdigest()[:8], 16)
    return "test" if h % 100 < test_percent else "train"


@dataclass
class Source:
    """One real document of the shared corpora, with where it is (`ref`) and its default label."""

    id: str
    family: str
    group: str
    ref: str                 # path under corpora/ and a locator (line number, key, record id)
    text: str | None = None  # plain text documents
    html: str | None = None  # raw pages (bytes decoded as UTF-8 where the corpus stores UTF-8)
    http: bytes | None = None  # a whole HTTP response (headers and body), as a crawler stored it
    url: str | None = None
    title: str | None = None
    kind: str = ""           # corpus-given kind (article, forum, list, ...)

    @property
    def split(self) -> str:
        return side(self.family, self.group)


def _jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                yield n, json.loads(line)


def wiki(root: Path) -> Iterator[Source]:
    for name, fam in (("cmrc2018_paragraphs.zh-Hans.jsonl", "wiki-cmrc"),
                      ("drcd_paragraphs.zh-Hant-TW.jsonl", "wiki-drcd")):
        for n, r in _jsonl(root / "wiki-zh" / name):
            yield Source(f"{fam}-{r['id']}", fam, r.get("title") or r["id"], f"wiki-zh/{name}:{n}",
                         text=r["text"], title=r.get("title"), kind="encyclopedic")


def ruanyf(root: Path) -> Iterator[Source]:
    for n, r in _jsonl(root / "clean/ruanyf-weekly/issues.jsonl"):
        yield Source(f"ruanyf-{r['id']}", "ruanyf", r["id"], f"clean/ruanyf-weekly/issues.jsonl:{n}",
                     text=r["text"], url=r.get("url"), title=r.get("title"), kind="technical")


def abstracts(root: Path) -> Iterator[Source]:
    """Scientific abstracts: csldcp and csl are separate datasets; the group is a bucket of 50 lines."""
    for name in ("csldcp.jsonl", "csl.jsonl"):
        for n, r in _jsonl(root / "clean/fewclue" / name):
            medical = "医" in (r.get("orig_label") or "") or "药" in (r.get("orig_label") or "")
            yield Source(r["id"], "abstracts", f"{name}:{n // 50}", f"clean/fewclue/{name}:{n}",
                         text=r["text"], kind="medical" if medical else "academic")


def magic_html(root: Path) -> Iterator[Source]:
    for kind in ("article", "forum"):
        d = root / "html-zh/magic-html" / kind
        gold = json.loads((d / "groundtruth.json").read_text(encoding="utf-8"))
        for stem, g in sorted(gold.items()):
            page = d / f"{stem}.html"
            if not page.exists():
                continue
            yield Source(f"magic-{kind}-{stem[:16]}", "magic-html", site(g["url"]) or stem,
                         f"html-zh/magic-html/{kind}/{stem}.html", text=g["content"],
                         html=page.read_bytes().decode("utf-8", "replace"), url=g["url"], kind=kind)


def gne(root: Path) -> Iterator[Source]:
    for n, r in _jsonl(root / "web-pages/gne/pages.jsonl"):
        html = (root / "web-pages/gne" / r["html_path"]).read_bytes().decode("utf-8", "replace")
        url = r["url"] if r.get("url") not in (None, "None") else None
        yield Source(r["id"], "gne", r["site"], f"web-pages/gne/{r['html_path']}", html=html, url=url,
                     title=r.get("title"), kind=r["page_kind"])


def gerapy(root: Path) -> Iterator[Source]:
    for n, r in _jsonl(root / "web-pages/gerapy/pages.jsonl"):
        html = (root / "web-pages/gerapy" / r["html_path"]).read_bytes().decode("utf-8", "replace")
        site = r["id"].split("-")[-1].split("_")[0]
        yield Source(r["id"], "gerapy", site, f"web-pages/gerapy/{r['html_path']}", html=html,
                     title=r.get("title"), kind="list" if "-list-" in r["id"] else "article")


def spider_pool(root: Path) -> Iterator[Source]:
    base = root / "spam/spider-pool"
    for n, r in _jsonl(base / "pages.jsonl"):
        page = base / r["html_path"]
        html = page.read_bytes().decode("utf-8", "replace") if page.exists() else None
        site = r["site"]
        url = f"http://{site}/{Path(r['html_path']).name}" if "." in site else None
        yield Source(r["id"], "spider-pool", site, f"spam/spider-pool/pages.jsonl:{n}", text=r["text"],
                     html=html, url=url, title=r.get("title"), kind="spider_pool")


def casia(root: Path) -> Iterator[Source]:
    for n, r in _jsonl(root / "spam/casia-clean-dirty/fasttext_clean_dirty_20.jsonl"):
        yield Source(r["id"], "casia", r["id"], f"spam/casia-clean-dirty/fasttext_clean_dirty_20.jsonl:{n}",
                     text=r["text"], url=r.get("url"), title=r.get("title"), kind=r["label"])


def cc_warc(root: Path) -> Iterator[Source]:
    """The HTTP responses of the Common Crawl excerpt; each page is its own site (group)."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    with open(root / "cc-warc/warcfile.warc", "rb") as f:
        for rec in ArchiveIterator(f, record_types=WarcRecordType.response, parse_http=False):
            rid, url = rec.headers.get("WARC-Record-ID").strip("<>"), rec.headers.get("WARC-Target-URI")
            yield Source(rid, "cc-warc", site(url) or "", f"cc-warc/warcfile.warc:{rid}",
                         http=rec.reader.read(), url=url, kind="crawl")


def poetry(root: Path) -> Iterator[Source]:
    """Tang and Song poems (OpenCC's poetry set, Traditional; collection converts them), category `verse`:
    the group is the author, so no poet is on both sides (all unattributed poems are one group)."""
    for name in ("poet.tang.0.json", "poet.song.0.json"):
        for n, p in enumerate(json.loads((root / "opencc/poetry" / name).read_text(encoding="utf-8"))):
            yield Source(f"poem-{p['id']}", "poetry", p.get("author") or "", f"opencc/poetry/{name}:{n}",
                         text=p.get("title", "") + "\n" + "\n".join(p.get("paragraphs", [])),
                         title=p.get("title"), kind="verse")


FAMILIES = {"cc-warc": cc_warc, "wiki": wiki, "ruanyf": ruanyf, "abstracts": abstracts,
            "magic-html": magic_html, "poetry": poetry,
            "gne": gne, "gerapy": gerapy, "spider-pool": spider_pool, "casia": casia}


def sources(*names: str, root: Path | None = None) -> Iterator[Source]:
    root = root or corpora_dir()
    for name in names or FAMILIES:
        yield from FAMILIES[name](root)


def clean_train_texts(root: Path | None = None) -> Iterator[str]:
    """Clean text from training-side groups only: for models that learn what clean Chinese looks like."""
    for s in sources("wiki", "ruanyf", "abstracts", "magic-html", root=root):
        if s.split == "train" and s.text:
            yield s.text
