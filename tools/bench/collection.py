"""Collection benchmark: WARC → normalised Simplified documents, MB/s per core and time per step; plus
the conversion and language-ID measurements behind docs/collection.md.

    python -m tools.bench.collection [--mb 24] [--repeat 2] [--json bench-collection.json]

Throughput: a temporary `.warc.gz` (one gzip member per record, as Common Crawl writes) is made of the
real pages in ../shared/corpora (the cc-warc responses and the html-zh pages wrapped as responses),
repeated up to `--mb` of uncompressed WARC. One process (one core) reads it with mdfs's reader and
runs every document through the collection stage's steps; MB/s = uncompressed WARC bytes / seconds.
The default extractor and the fast alternative (resiliparse) run side by side.

Conversion: "Traditional-only characters left" = occurrences of characters c with OpenCC t2s(c) != c,
divided by all characters, after the stage (language ID on, so only text identified as Chinese is
converted).
"""

from __future__ import annotations

import argparse
import io
import json
import re
import tempfile
import time
import zlib
from collections import Counter
from pathlib import Path

from tools.bench.extraction import DEFAULT_SHARED
from mdfs.config import InputConfig
from mdfs.inputs import plan_shards
from mdfs.readers import PieceReader
from mdfs.stages.collection import Collection, StepClock
from mdfs.stages.collection.language import LanguageId

STEPS = ("read", "decode", "extract", "normalise", "language", "opencc")


# -- throughput ------------------------------------------------------------------------------------
def _response(url: str, body: bytes, ctype: str) -> bytes:
    from fastwarc.warc import WarcRecord, WarcRecordType

    http = f"HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\n\r\n".encode() + body
    rec = WarcRecord()
    rec.init_headers(WarcRecordType.response, content_length=len(http))
    rec.headers.append("WARC-Target-URI", url)
    rec.headers.append("Content-Type", "application/http; msgtype=response")
    rec.set_bytes_content(http)
    buf = io.BytesIO()
    rec.write(buf)
    return buf.getvalue()


def make_warc(shared: Path, target_mb: float, out: Path) -> tuple[int, int]:
    """Write `out` (.warc.gz); return (uncompressed bytes, records)."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    records = []
    with open(shared / "cc-warc" / "warcfile.warc.gz", "rb") as f:
        for rec in ArchiveIterator(f, record_types=WarcRecordType.response):
            ctype = rec.http_headers.get("Content-Type") or "text/html"
            records.append(_response(rec.headers.get("WARC-Target-URI"), rec.reader.read(), ctype))
    for sub in ("article", "forum"):
        folder = shared / "html-zh" / "magic-html" / sub
        truth = json.loads((folder / "groundtruth.json").read_text(encoding="utf-8"))
        for stem, entry in sorted(truth.items()):
            records.append(_response(entry["url"], (folder / f"{stem}.html").read_bytes(), "text/html"))
    size, count = 0, 0
    with open(out, "wb") as f:
        while size < target_mb * 1e6:
            rec = records[count % len(records)]
            comp = zlib.compressobj(6, zlib.DEFLATED, 31)
            f.write(comp.compress(rec) + comp.flush())
            size, count = size + len(rec), count + 1
    return size, count


def run_throughput(warc: Path, size: int, extractor: str) -> dict:
    stage = Collection("collection", Collection.Params(extractor=extractor))
    stage.setup()
    stage.clock = clock = StepClock()
    cfg = InputConfig(paths=[str(warc)])
    reader = PieceReader(cfg)
    docs, kept, langs = 0, 0, Counter()
    t_start = time.perf_counter()
    for shard in plan_shards(cfg)[0]:
        for piece in shard.pieces:
            batches = reader.read(piece)
            while True:
                t0 = time.perf_counter()
                rb = next(batches, None)
                clock.seconds["read"] = clock.seconds.get("read", 0.0) + time.perf_counter() - t0
                if rb is None:
                    break
                with clock("read"):
                    table = rb.table()
                    cols = ("raw", "http_charset", "content_type")
                    rows = zip(*(table.column(c).to_pylist() for c in cols))
                for raw, charset, ctype in rows:
                    d = stage.document(None, raw, charset, ctype)
                    docs += 1
                    kept += d.reason is None
                    langs[d.lang] += 1
    total = time.perf_counter() - t_start
    return {"extractor": extractor, "seconds": total, "mb_per_s": size / total / 1e6, "docs": docs,
            "kept": kept, "docs_per_s": docs / total, "steps": {s: clock.seconds.get(s, 0.0) for s in STEPS},
            "other": total - sum(clock.seconds.values()), "langs": dict(langs.most_common(6))}


# -- conversion ------------------------------------------------------------------------------------
def _traditional_left(texts: list[str], t2s) -> tuple[float, int]:
    text = "".join(texts)
    trad = {c for c in set(text) if t2s.convert(c) != c}
    return sum(text.count(c) for c in trad) / max(len(text), 1), len(text)


def run_conversion(shared: Path) -> dict:
    import opencc

    t2s = opencc.OpenCC("t2s")
    stage = Collection("collection", Collection.Params(languages=[]))
    stage.setup()
    out = {}
    corpora = {
        "wiki-zh DRCD (zh-Hant-TW)": [json.loads(x)["text"] for x in
                                      (shared / "wiki-zh" / "drcd_paragraphs.zh-Hant-TW.jsonl").open()],
        "wiki-zh CMRC (zh-Hans, mixed)": [json.loads(x)["text"] for x in
                                          (shared / "wiki-zh" / "cmrc2018_paragraphs.zh-Hans.jsonl").open()],
        "opencc poetry (Tang/Song)": ["\n".join(p["paragraphs"])
                                      for f in sorted((shared / "opencc" / "poetry").glob("*.json"))
                                      for p in json.loads(f.read_text(encoding="utf-8"))],
    }
    for name, texts in corpora.items():
        before, chars = _traditional_left(texts, t2s)
        docs = [stage.document(t, None) for t in texts]
        after, _ = _traditional_left([d.text for d in docs], t2s)
        out[name] = {"docs": len(texts), "chars": chars, "left_before": before, "left_after": after,
                     "not_chinese": sum(d.lang not in ("zh", "yue", "wuu") for d in docs)}
    golden = shared / "opencc" / "golden"
    source = (golden / "us_constitution_zhs.txt").read_text(encoding="utf-8")
    for script, config in (("s2t", "t2s"), ("s2tw", "tw2s"), ("s2hk", "hk2s")):
        trad = (golden / "output" / f"us_constitution_zhs.{script}.txt").read_text(encoding="utf-8")
        back = opencc.OpenCC(config).convert(trad)
        same = sum(a == b for a, b in zip(back, source)) if len(back) == len(source) else 0
        out[f"golden round trip {script} → {config}"] = {"chars": len(source), "accuracy": same / len(source)}
    raw_cases = (shared / "opencc" / "testcases.json").read_text("utf-8")
    cases = json.loads(re.sub(r",(\s*[\]}])", r"\1", raw_cases))  # the file has trailing commas
    for config in ("t2s", "tw2s", "hk2s"):
        conv = opencc.OpenCC(config)
        todo = [c for c in cases["cases"] if config in c["expected"]]
        ok = sum(conv.convert(c["input"]) == c["expected"][config] for c in todo)
        out[f"testcases.json {config}"] = {"cases": len(todo), "exact": ok / max(len(todo), 1)}
    return out


# -- language ID -----------------------------------------------------------------------------------
def run_language(shared: Path) -> dict:
    variants = {"raw text": LanguageId(char_tokens=False, kana_check=False),
                "raw text + kana check": LanguageId(char_tokens=False),
                "CJK chars as tokens": LanguageId(kana_check=False),
                "chars as tokens + kana check (used)": LanguageId()}
    out = {}
    for name, file in (("CMRC zh-Hans", "cmrc2018_paragraphs.zh-Hans.jsonl"),
                       ("DRCD zh-Hant", "drcd_paragraphs.zh-Hant-TW.jsonl")):
        texts = [json.loads(x)["text"] for x in (shared / "wiki-zh" / file).open()]
        for n in (10, 20, 60, 2000):
            for variant, lid in variants.items():
                zh = sum(lid.predict(t[:n])[0] == "zh" for t in texts)
                out[f"{name} | {n} | {variant}"] = zh / len(texts)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    ap.add_argument("--mb", type=float, default=24.0, help="uncompressed WARC megabytes to process")
    ap.add_argument("--repeat", type=int, default=1, help="throughput runs per extractor; the best counts")
    ap.add_argument("--extractors", nargs="*",
                    default=["trafilatura_precision", "trafilatura_recall", "resiliparse"])
    ap.add_argument("--json", type=Path, default=Path("bench-collection.json"))
    args = ap.parse_args(argv)
    results: dict = {"throughput": []}
    with tempfile.TemporaryDirectory() as tmp:
        warc = Path(tmp) / "bench.warc.gz"
        size, count = make_warc(args.shared, args.mb, warc)
        print(f"WARC: {count} responses, {size / 1e6:.1f} MB uncompressed, "
              f"{warc.stat().st_size / 1e6:.1f} MB gz; one process (one core)\n")
        for name in args.extractors:
            runs = [run_throughput(warc, size, name) for _ in range(args.repeat)]
            results["throughput"].append(min(runs, key=lambda r: r["seconds"]))
    base = results["throughput"][0]
    print("| extractor | MB/s per core | docs/s | vs default | " + " | ".join(f"{s} %" for s in STEPS) + " |")
    print("|---" * (4 + len(STEPS)) + "|")
    for r in results["throughput"]:
        shares = " | ".join(f"{100 * r['steps'][s] / r['seconds']:.1f}" for s in STEPS)
        print(f"| {r['extractor']} | {r['mb_per_s']:.2f} | {r['docs_per_s']:.0f} | "
              f"{r['mb_per_s'] / base['mb_per_s']:.2f}x | {shares} |")
    results["conversion"] = run_conversion(args.shared)
    print("\n| conversion | measure |\n|---|---|")
    for name, r in results["conversion"].items():
        if "left_after" in r:
            print(f"| {name}: {r['docs']} docs, {r['chars']:,} chars | Traditional-only left "
                  f"{100 * r['left_before']:.2f}% → {100 * r['left_after']:.3f}% "
                  f"({r['not_chinese']} docs not identified as Chinese) |")
        elif "accuracy" in r:
            print(f"| {name} ({r['chars']:,} chars) | {100 * r['accuracy']:.2f}% characters equal |")
        else:
            print(f"| {name} ({r['cases']} cases) | {100 * r['exact']:.1f}% exact |")
    results["language"] = run_language(args.shared)
    print("\n| corpus | prefix chars | input | labelled zh |\n|---|---|---|---|")
    for key, share in results["language"].items():
        print(f"| {key.replace(' | ', ' | ')} | {100 * share:.2f}% |")
    args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
