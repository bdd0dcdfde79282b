"""Measure the cross-page boilerplate stage: what share of template lines it cuts and how many article lines.

    .venv/bin/python -m tools.bench.boilerplate [--sites 40 --pages 12] [--speed-sites 300 --speed-pages 60]
                                               [--engine serial|ray] [--json F]

1. `web-pages/gne` visible text (pages.jsonl), one site per folder name (the pages carry no URL: the bench
   gives each a made-up `https://<site>.gne.invalid/` address), against the hand-marked article ranges of
   `gne_boilerplate_labels.json`: template = outside the article, on ≥ 2 pages of the site.
2. `web-pages/gne` raw HTML through `collection` → `boilerplate` (`without_domain: directory`): what the
   stage cuts from extracted main text, and whether any cut line lies in a marked article range.
3. The default recipe on the same HTML, without the stage, with it after collection, with it after quality.
4. Generated sites (`tools.bench.sites`), labelled by construction.
5. Speed on a bigger generated corpus: MB of text per second per core, the whole run and the stage alone.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

import mdfs
from tools.bench.sites import generate
from mdfs.stages.boilerplate import line_keys
from mdfs.goldtext import shared_corpora

ROOT = Path(__file__).resolve().parents[2]
SHARED = shared_corpora()
GNE = SHARED / "web-pages" / "gne"
WIKI = SHARED / "wiki-zh" / "cmrc2018_paragraphs.zh-Hans.jsonl"
LABELS = Path(__file__).with_name("gne_boilerplate_labels.json")


def keys(lines: list[str]) -> list[str]:
    return line_keys(pa.array(lines, pa.string()))[0].to_pylist()


# -- labels ------------------------------------------------------------------------------------------------
def gne_pages() -> list[dict]:
    return [json.loads(line) for line in (GNE / "pages.jsonl").open(encoding="utf-8")]


def gne_labels(pages: list[dict], ranges: dict[str, list]) -> dict[str, list[str | None]]:
    """Per labelled page, per line: article (inside a marked range), template (outside, on ≥ 2 pages of
    the site), other, or None (blank)."""
    by_site = defaultdict(Counter)
    for p in pages:
        by_site[p["site"]].update(set(k for k in keys(p["text"].split("\n")) if k))
    out = {}
    for p in pages:
        if p["id"] not in ranges:
            continue
        ks = keys(p["text"].split("\n"))
        inside = {i for a, b in ranges[p["id"]] for i in range(a, b + 1)}
        out[p["id"]] = [None if not k else "article" if i in inside else
                        "template" if by_site[p["site"]][k] >= 2 else "other" for i, k in enumerate(ks)]
    return out


# -- running the stage -------------------------------------------------------------------------------------
def run(input_dir: Path, out: Path, stages: list[dict], engine: str = "serial", workers: int | None = None,
        shard_mb: float = 1.0) -> mdfs.RunSummary:
    cfg = {"input": {"shard_size_mb": shard_mb}, "output": {"keep_work": True, "report": False},
           "engine": {"kind": engine}, "stages": stages}
    path = out.parent / f"{out.name}.yaml"
    path.write_text(json.dumps(cfg))
    shutil.rmtree(out, ignore_errors=True)
    return mdfs.run(str(path), str(input_dir), str(out), progress=False, workers=workers)


def cuts_of(out: Path, stage: str = "boilerplate") -> tuple[dict[str, set[int]], set[str]]:
    """Line indexes cut per document id (from the kept work files), and the ids the stage rejected."""
    seg = out / "_work" / "seg0"  # the documents the stage saw (it is the first global stage here)
    ids = {int(f.stem.split("-")[1]): pq.read_table(f, columns=["id"]).column("id").to_pylist()
           for f in seg.glob("part-*.parquet")}
    cuts: dict[str, set[int]] = defaultdict(set)
    for f in (out / "_work" / stage / "edits").glob("*.parquet"):
        t = pq.read_table(f)
        for shard, row, line in zip(*(t.column(c).to_pylist() for c in ("shard", "row", "line"))):
            cuts[ids[shard][row]].add(line)
    rejected = set()
    for f in (out / "rejects" / stage).glob("*.parquet"):
        rejected.update(pq.read_table(f, columns=["id"]).column("id").to_pylist())
    return cuts, rejected


def score(labels: dict[str, list[str | None]], cuts: dict[str, set[int]], rejected: set[str]) -> dict:
    """Lines of each label, and how many left the corpus (cut, or on a rejected page)."""
    total, removed = Counter(), Counter()
    for doc, labs in labels.items():
        for i, lab in enumerate(labs):
            if lab is None:
                continue
            total[lab] += 1
            removed[lab] += doc in rejected or i in cuts.get(doc, ())
    return {lab: {"lines": total[lab], "removed": removed[lab],
                  "share_removed": round(removed[lab] / total[lab], 4) if total[lab] else None}
                  for lab in total}


def write_jsonl(path: Path, rows: list[dict]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
    path.write_bytes(data)
    return len(data)


# -- the measurements ----------------------------------------------------------------------------------------
def measure_gne_text(tmp: Path, params: dict) -> dict:
    pages = gne_pages()
    ranges = json.loads(LABELS.read_text())["pages"]
    labels = gne_labels(pages, ranges)
    write_jsonl(tmp / "gne" / "pages.jsonl", [{"id": p["id"], "text": p["text"],
                                               "url": f"https://{p['site']}.gne.invalid/{p['id']}"}
                                               for p in pages])
    s = run(tmp / "gne", tmp / "gne-out", [{"name": "boilerplate", "with": params}])
    cuts, rejected = cuts_of(tmp / "gne-out")
    per_site = defaultdict(lambda: defaultdict(Counter))
    site_of = {p["id"]: p["site"] for p in pages}
    for doc, labs in labels.items():
        for i, lab in enumerate(labs):
            if lab:
                per_site[site_of[doc]][lab]["lines"] += 1
                per_site[site_of[doc]][lab]["removed"] += doc in rejected or i in cuts.get(doc, ())
    all_pages = {p["id"]: [None if not k else "unlabelled" for k in keys(p["text"].split("\n"))]
                 for p in pages
                 if p["id"] not in labels}
    return {"pages": len(pages), "labelled_pages": len(labels), "score": score(labels, cuts, rejected),
            "single_page_sites": score(all_pages, cuts, rejected),
            "per_site": {k: {lab: dict(c) for lab, c in v.items()} for k, v in sorted(per_site.items())},
            "rejected": sorted(rejected), "counters": s.stages["boilerplate"].counters}


def measure_gne_html(tmp: Path, params: dict) -> dict:
    """Collection (main-text extraction) then the stage, one site per folder of HTML files. Each line of the
    extracted text is labelled by matching its normalised form to the labelled visible text of its page."""
    s = run(GNE / "html", tmp / "html-out", [
        {"name": "collection", "with": {"languages": ["zh"]}},
        {"name": "boilerplate", "with": {**params, "without_domain": "directory"}}])
    out = tmp / "html-out"
    pages = {p["html_path"].removeprefix("html/"): p for p in gne_pages()}
    ranges = json.loads(LABELS.read_text())["pages"]
    labels = gne_labels(list(pages.values()), ranges)
    total, removed = Counter(), Counter()
    for f in (out / "data").glob("*.parquet"):
        t = pq.read_table(f, columns=["id", "text", "boilerplate__cut"])
        for doc, text, cut in zip(*(t.column(c).to_pylist() for c in ("id", "text", "boilerplate__cut"))):
            page = pages.get(doc)
            if not page or page["id"] not in labels:
                continue
            of = dict(zip(keys(page["text"].split("\n")), labels[page["id"]]))
            for lines, gone in ((text.split("\n"), False), ((cut or "").split("\n") if cut else [], True)):
                for k in keys(lines) if lines else []:
                    if k:
                        lab = of.get(k, "unmatched")
                        total[lab] += 1
                        removed[lab] += gone
    st = s.stages["boilerplate"]
    return {"docs_in": st.docs_in, "docs_out": st.docs_out, "rejected": st.reasons,
            "labelled_pages_lines": {lab: {"lines": total[lab], "removed": removed[lab]} for lab in total},
            "counters": st.counters}


def measure_recipe(tmp: Path, params: dict) -> dict:
    """The default recipe on the gne HTML pages, without the stage, with it right after collection and with it
    right after quality: pages kept, and the labelled lines (matched by normalised form) left in the
    output."""
    from mdfs.config import read_yaml_mapping

    recipe = read_yaml_mapping(ROOT / "configs" / "zh_web.yaml")
    base = [st for st in recipe["stages"] if st["name"] != "boilerplate"]
    pages = {p["html_path"].removeprefix("html/"): p for p in gne_pages()}
    ranges = json.loads(LABELS.read_text())["pages"]
    labels = gne_labels(list(pages.values()), ranges)
    result = {}
    stage = {"name": "boilerplate", "with": {**params, "without_domain": "directory"}}
    after = {n: [st["name"] for st in base].index(n) + 1 for n in ("collection", "quality")}
    variants = [("without", base)] + [(f"after_{n}", base[:i] + [stage] + base[i:]) for n, i in after.items()]
    for name, stages in variants:
        s = run(GNE / "html", tmp / f"recipe-{name}", stages)
        left, kept_labelled = Counter(), 0
        for f in (tmp / f"recipe-{name}" / "data").glob("*.parquet"):
            t = pq.read_table(f, columns=["id", "text"])
            for doc, text in zip(t.column("id").to_pylist(), t.column("text").to_pylist()):
                page = pages.get(doc)
                if page and page["id"] in labels:
                    kept_labelled += 1
                    of = dict(zip(keys(page["text"].split("\n")), labels[page["id"]]))
                    left.update(of.get(k, "unmatched") for k in keys(text.split("\n")) if k)
        result[name] = {"docs_in": s.docs_in, "docs_out": s.docs_out, "labelled_pages_kept": kept_labelled,
                        "lines_left_in_labelled_pages": dict(left),
                        "rejected_by": {k: v.reasons for k, v in s.stages.items() if v.reasons}}
    return result


def measure_generated(tmp: Path, params: dict, sites: int, pages: int, seed: int = 0) -> dict:
    gen = generate(sites, pages, WIKI, seed)
    write_jsonl(tmp / "gen" / "pages.jsonl", [{"id": p.id, "text": p.text, "url": p.url} for p in gen])
    s = run(tmp / "gen", tmp / "gen-out", [{"name": "boilerplate", "with": params}])
    cuts, rejected = cuts_of(tmp / "gen-out")
    labels = {p.id: [lab if line.strip() else None for line, lab in zip(p.lines, p.labels)] for p in gen}
    res = {"sites": sites, "pages_per_site": pages, "score": score(labels, cuts, rejected),
           "counters": s.stages["boilerplate"].counters}
    lost = Counter(p.lines[i] for p in gen for i in cuts.get(p.id, ()) if p.labels[i] == "article")
    res["article_lines_cut_by_kind"] = _shapes(lost)
    return res


def _shapes(lost: Counter) -> dict:
    """Generated article lines that were cut, by shape (generated text, safe to show)."""
    out: Counter = Counter()
    for k, n in lost.items():
        out["number" if re.fullmatch(r"\d+", k) else k if len(k) < 12 else "sentence"] += n
    return dict(out)


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the serial engine runs in-process)."""
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def measure_speed(tmp: Path, params: dict, sites: int, pages: int, engine: str, workers: int | None) -> dict:
    gen = generate(sites, pages, WIKI, seed=1)
    nbytes = write_jsonl(tmp / "speed" / "pages.jsonl",
                         [{"id": p.id, "text": p.text, "url": p.url} for p in gen])
    t0, c0 = time.perf_counter(), _cpu()
    s = run(tmp / "speed", tmp / "speed-out", [{"name": "boilerplate", "with": params}], engine, workers,
            shard_mb=16)
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    cores = 1 if engine == "serial" else (workers or os.cpu_count() or 1)
    st = s.stages["boilerplate"]
    mb = nbytes / 1e6
    return {"docs": len(gen), "mb": round(mb, 1), "engine": engine, "cores": cores, "wall_s": round(wall, 2),
            "cpu_s": round(cpu, 2) if engine == "serial" else None,
            "mb_per_cpu_s": round(mb / cpu, 2) if engine == "serial" else None,
            "stage_s": round(st.seconds, 2),
            "mb_per_s_per_core": round(mb / wall / cores, 2),
            "stage_mb_per_s_per_core": round(mb / st.seconds / cores, 2) if st.seconds else None,
            "cut_lines": st.counters.get("cut_lines_site", 0) + st.counters.get("cut_lines_corpus", 0)}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sites", type=int, default=40)
    ap.add_argument("--pages", type=int, default=12)
    ap.add_argument("--speed-sites", type=int, default=300)
    ap.add_argument("--speed-pages", type=int, default=60)
    ap.add_argument("--engine", choices=["serial", "ray"], default="serial")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--set", action="append", default=[], help="stage parameter, e.g. min_share=0.4")
    ap.add_argument("--skip", action="append", default=[],
                    choices=["gne", "html", "recipe", "generated", "speed"])
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    params: dict = {}
    for kv in args.set:
        k, _, v = kv.partition("=")
        params[k] = json.loads(v) if v not in ("", None) else v
    result: dict = {"params": params}
    with tempfile.TemporaryDirectory(prefix="mdfs-boiler-") as tmp:
        tmp = Path(tmp)
        if "gne" not in args.skip:
            result["gne_text"] = measure_gne_text(tmp, params)
        if "html" not in args.skip:
            result["gne_html"] = measure_gne_html(tmp, params)
        if "recipe" not in args.skip:
            result["recipe"] = measure_recipe(tmp, params)
        if "generated" not in args.skip:
            result["generated"] = measure_generated(tmp, params, args.sites, args.pages)
        if "speed" not in args.skip:
            result["speed"] = measure_speed(tmp, params, args.speed_sites, args.speed_pages, args.engine,
                                            args.workers)
    text = json.dumps(result, ensure_ascii=False, indent=1)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)
    return result


if __name__ == "__main__":
    main()
