"""The pages with gold main text as a gold file and as pipeline input, to score what a whole recipe keeps.

    python -m tools.bench.maintext gold                 # rewrite configs/eval/zh_maintext.jsonl (no text)
    python -m tools.bench.maintext inputs DIR           # DIR/pages.warc.gz: every gold page, id = record id
    mdfs run configs/zh_web.yaml --input DIR --output RUN --engine serial
    mdfs eval RUN --gold configs/eval/zh_maintext.jsonl [--split test]

Pages: the 53 Chinese article and 23 forum pages of `html-zh/magic-html` (gold: `groundtruth.json`;
its 5 Japanese pages are left out: a Chinese recipe rightly drops them) and the 4 pages of
`html-zh/readability` (gold: `expected.html`; three news articles and one blog). Their ids are the
development set's (`magic-<kind>-<key[:16]>`, see tools/models/corpora.py), so a development-set run
can be scored with the same gold file.

Split by site: `split` is the development set's seeded hash of the site (host of the page URL), 35% of
the sites `test` (held out: the figures to report, not used to tune extraction or line rules), the
rest `train`.
A site is never on both sides.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
from pathlib import Path

from mdfs.goldtext import page_url, read_gold_file, shared_corpora

GOLD_FILE = Path(__file__).resolve().parents[2] / "configs" / "eval" / "zh_maintext.jsonl"
READABILITY_TYPES = {"pixnet": "blog"}  # the others (gmw, youth, qq) are news articles


def _japanese(text: str) -> bool:
    """Kana are at least 10% of kana + Han (the collection stage's own kana check): not a Chinese page."""
    kana = len(re.findall(r"[\u3040-\u30ff]", text))
    return kana >= 0.1 * (kana + len(re.findall(r"[\u4e00-\u9fff]", text))) > 0


def gold_rows(root: Path) -> list[dict]:
    from mdfs.hosts import site
    from tools.models.corpora import side

    rows = []
    for kind in ("article", "forum"):
        folder = root / "html-zh/magic-html" / kind
        gold = json.loads((folder / "groundtruth.json").read_text(encoding="utf-8"))
        for key, entry in sorted(gold.items()):
            if not (folder / f"{key}.html").exists() or _japanese(entry["content"]):
                continue
            name = site(entry["url"]) or key
            rows.append({"id": f"magic-{kind}-{key[:16]}", "type": kind, "site": name,
                         "split": side("magic-html", name), "set": "magic-html",
                         "gold": f"html-zh/magic-html/{kind}/groundtruth.json#{key}",
                         "html": f"html-zh/magic-html/{kind}/{key}.html"})
    for folder in sorted((root / "html-zh/readability").iterdir()):
        if (folder / "source.html").exists():
            rows.append({"id": f"readability-{folder.name}",
                         "type": READABILITY_TYPES.get(folder.name, "article"),
                         "site": folder.name, "split": side("readability", folder.name), "set": "readability",
                         "gold": f"html-zh/readability/{folder.name}/expected.html",
                         "html": f"html-zh/readability/{folder.name}/source.html"})
    return rows


def _warc_record(record_id: str, url: str, body: bytes) -> bytes:
    """One gzipped WARC response record of an HTML page with no declared charset (decoding is tested)."""
    http = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    head = (f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <{record_id}>\r\n"
            f"WARC-Target-URI: {url}\r\nWARC-Date: 2024-01-01T00:00:00Z\r\n"
            f"Content-Type: application/http; msgtype=response\r\nContent-Length: {len(http)}\r\n\r\n")
    return gzip.compress(head.encode() + http + b"\r\n\r\n", mtime=0)


def write_inputs(out: Path, rows: list[dict], root: Path | None = None) -> int:
    """Write every page of `rows` into `out/pages.warc.gz`, its WARC record id being its gold id and its
    URL the recorded one (`http://<site>.invalid/` when none is recorded)."""
    root = root or shared_corpora()
    out.mkdir(parents=True, exist_ok=True)
    records = [_warc_record(r["id"], page_url(r, root) or f"http://{r['site']}.invalid/",
                            (root / r["html"]).read_bytes()) for r in rows]
    (out / "pages.warc.gz").write_bytes(b"".join(records))
    return len(records)


def main(argv: list[str]) -> None:
    root = shared_corpora()
    if argv[:1] == ["gold"]:
        rows = gold_rows(root)
        GOLD_FILE.parent.mkdir(parents=True, exist_ok=True)
        GOLD_FILE.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        print(f"{len(rows)} pages -> {GOLD_FILE}")
    elif argv[:1] == ["inputs"] and len(argv) in (2, 3):
        rows = read_gold_file(argv[2] if len(argv) == 3 else str(GOLD_FILE))
        print(f"{write_inputs(Path(argv[1]), rows, root)} pages -> {argv[1]}/pages.warc.gz")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
