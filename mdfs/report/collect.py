"""Gather everything the report shows from a run directory into one JSON-able dict.

Counts come from the manifest (documents and characters per stage, reasons, counters, seconds); the
corpus and the rejects are streamed from Parquet, only the columns needed, so memory is bounded by the
batch size and the top-k tables, not by the corpus.
"""

from __future__ import annotations

import logging
import re

import pyarrow as pa
import pyarrow.compute as pc

from mdfs import storage
from mdfs.datastats import CorpusStats
from mdfs.errors import OutputError
from mdfs.hosts import hosts
from mdfs.layout import RunLayout
from mdfs.report.scan import (
    LENGTH_EDGES,
    SCORE_EDGES,
    Histogram,
    Sampler,
    TopCounter,
    batches,
    parquet_files,
)
from mdfs.stage import StageContext
from mdfs.stats import RunStats, StageStats

log = logging.getLogger(__name__)
_CLUSTER = re.compile(r"^cluster_size_(\d+\+?)$")


def build_report(
    root: str, *, samples: int = 5, sample_chars: int = 400, top: int = 20, rescore: int = 2000
) -> dict:
    layout = RunLayout(root)
    if not storage.exists(layout.manifest):
        raise OutputError(f"{root} has no manifest.json: not a finished mdfs run")
    manifest = storage.read_json(layout.manifest)
    stages = RunStats.from_json(manifest.get("stages", {}))
    order = list(stages)
    corpus = _scan_corpus(layout, top)
    rejects = _scan_rejects(layout, order, samples, sample_chars, top)
    report = {
        "run": {
            "root": root,
            "config_hash": manifest.get("config_hash"),
            "seconds": manifest.get("seconds"),
            "input_bytes": manifest.get("inputs", {}).get("bytes"),
            "input_shards": manifest.get("inputs", {}).get("shards"),
            "mdfs": manifest.get("versions", {}).get("mdfs"),
            "conservation_ok": manifest.get("conservation", {}).get("ok"),
        },
        "funnel": _funnel(stages, manifest),
        "reasons": {
            s: dict(sorted(st.reasons.items(), key=lambda kv: -kv[1]))
            for s, st in stages.items()
            if st.reasons
        },
        "throughput": _throughput(stages, corpus),
        "dedup": _dedup(stages),
        "corpus": corpus.to_json(top),
        "lengths": {
            "edges": LENGTH_EDGES,
            "kept": corpus.length_bins.counts.tolist(),
            "rejected": rejects["lengths"].counts.tolist(),
            "rejected_by_stage": {s: h.counts.tolist() for s, h in rejects["lengths_by_stage"].items()},
        },
        "scores": _scores(manifest, corpus, rejects, order, rescore),
        "sources": _kept_vs_rejected(rejects["sources"], corpus_sources(layout), top),
        "domains": _kept_vs_rejected(rejects["domains"], corpus.domains, top),
        "samples": rejects["samples"],
    }
    return report


def corpus_sources(layout: RunLayout) -> TopCounter:
    counter = TopCounter()
    for b in batches(parquet_files(storage.join(layout.root, "data")), ["source"]):
        if "source" in b.schema.names:
            counter.add(b.column("source"))
    return counter


def _scan_corpus(layout: RunLayout, top: int) -> CorpusStats:
    stats = CorpusStats()
    files = parquet_files(storage.join(layout.root, "data"))
    for b in batches(files, ["text", "lang", "domain", "url", "quality__score"] + _score_columns(files)):
        stats.add(pa.Table.from_batches([b]))
    return stats


def _score_columns(files: list[str]) -> list[str]:
    if not files:
        return []
    import pyarrow.parquet as pq

    fs, p = storage.resolve(files[0])
    return [f.name for f in pq.read_schema(p, filesystem=fs) if f.name.endswith("__score")]


def _scan_rejects(layout: RunLayout, order: list[str], k: int, chars: int, top: int) -> dict:
    """Length histograms, per-source and per-domain counts, and a sample of each (stage, reason)."""
    lengths, by_stage = Histogram(LENGTH_EDGES), {}
    sources, doms, sampler = TopCounter(), TopCounter(), Sampler(k)
    folder = storage.join(layout.root, "rejects")
    files = parquet_files(folder)
    for b in batches(files, ["id", "stage", "reason", "detail", "text", "source", "url"]):
        t = pa.Table.from_batches([b])
        n = pc.utf8_length(pc.fill_null(t.column("text"), "")) if "text" in t.column_names else None
        stage_col = t.column("stage").to_pylist()
        if n is not None and t.column("text").null_count < t.num_rows:
            lengths.add(n)
            for s in set(stage_col):
                by_stage.setdefault(s, Histogram(LENGTH_EDGES)).add(n.filter(pc.equal(t.column("stage"), s)))
        if "source" in t.column_names:
            sources.add(t.column("source"))
        if "url" in t.column_names:
            doms.add(hosts(t.column("url")))
        short = (
            t.set_column(
                t.column_names.index("text"),
                "text",
                pc.utf8_slice_codeunits(pc.fill_null(t.column("text"), ""), 0, chars),
            )
            if "text" in t.column_names
            else t
        )
        keys = list(zip(stage_col, t.column("reason").to_pylist()))
        sampler.add(keys, short)
    rank = {s: i for i, s in enumerate(order)}
    out = []
    for (stage, reason), rows in sorted(
        sampler.kept.items(), key=lambda kv: (rank.get(kv[0][0], 99), kv[0][1])
    ):
        out.append(
            {
                "stage": stage,
                "reason": reason,
                "documents": [
                    {key: r.get(key) for key in ("id", "detail", "text", "source", "url")} for _, r in rows
                ],
            }
        )
    return {
        "lengths": lengths,
        "lengths_by_stage": dict(sorted(by_stage.items(), key=lambda kv: rank.get(kv[0], 99))),
        "sources": sources,
        "domains": doms,
        "samples": out,
        "files": files,
    }


def _funnel(stages: RunStats, manifest: dict) -> list[dict]:
    rows = []
    first = next(iter(stages.values()), StageStats())
    for name, st in stages.items():
        rows.append(
            {
                "stage": name,
                "docs_in": st.docs_in,
                "docs_out": st.docs_out,
                "rejected": st.docs_in - st.docs_out,
                "kept_pct": _pct(st.docs_out, st.docs_in),
                "chars_in": st.chars_in,
                "chars_out": st.chars_out,
                "chars_kept_pct": _pct(st.chars_out, st.chars_in),
                "docs_of_input_pct": _pct(st.docs_out, first.docs_in),
                "chars_of_input_pct": _pct(st.chars_out, first.chars_in),
            }
        )
    return rows


def _pct(a: float, b: float) -> float | None:
    return round(100.0 * a / b, 2) if b else None


def _throughput(stages: RunStats, corpus: CorpusStats) -> dict:
    """Documents and MB per worker-second of each stage (`seconds` add up over workers: a per-core rate).
    MB are UTF-8 bytes of the stage's input text, estimated as characters × the corpus's bytes per
    character (stats count characters, not bytes)."""
    bpc = corpus.bytes / corpus.chars if corpus.chars else 3.0
    rows = []
    for name, st in stages.items():
        sec = st.seconds
        mb = st.chars_in * bpc / 1e6
        rows.append(
            {
                "stage": name,
                "seconds": round(sec, 3),
                "docs_in": st.docs_in,
                "mb_in": round(mb, 3),
                "docs_per_s": round(st.docs_in / sec, 1) if sec else None,
                "mb_per_s": round(mb / sec, 2) if sec else None,
            }
        )
    return {
        "bytes_per_char": round(bpc, 3),
        "stages": rows,
        "note": "per worker-second; MB = characters × bytes per character of the corpus",
    }


def _dedup(stages: RunStats) -> dict:
    out = {}
    for name, st in stages.items():
        counters = st.counters
        sizes = {m.group(1): v for k, v in counters.items() if (m := _CLUSTER.match(k))}
        if sizes:
            ordered = sorted(sizes.items(), key=lambda kv: int(kv[0].rstrip("+")))
            out[name] = {
                "cluster_sizes": dict(ordered),
                **{k: v for k, v in counters.items() if k in ("clusters", "removed")},
            }
    return out


def _kept_vs_rejected(rejected: TopCounter, kept: TopCounter, top: int) -> list[dict]:
    keys = set(rejected.counts) | set(kept.counts)
    rows = [{"name": k, "kept": kept.counts.get(k, 0), "rejected": rejected.counts.get(k, 0)} for k in keys]
    for r in rows:
        r["kept_pct"] = _pct(r["kept"], r["kept"] + r["rejected"])
    return sorted(rows, key=lambda r: (-(r["kept"] + r["rejected"]), r["name"]))[:top]


def _scores(manifest: dict, corpus: CorpusStats, rejects: dict, order: list[str], rescore: int) -> dict:
    """Score histograms of the corpus and, per rejecting stage, of the documents rejected at or after the
    scoring stage (rejects keep the scores computed before the drop; runs written before that are
    re-scored on a sample), with the scoring stage's threshold to draw."""
    out = {}
    specs = {s["name"]: (i, s) for i, s in enumerate(manifest.get("config", {}).get("stages", []))}
    built: dict[str, object] = {}
    for col, hist in sorted(corpus.scores.items()):
        stage = col.split("__")[0]
        entry = {"edges": SCORE_EDGES, "kept": hist.counts.tolist(), "rejected": None, "rejected_sample": 0,
                 "rejected_by": _rejected_by(col, rejects["files"])}
        if stage in specs and stage in order:
            try:
                if stage not in built:
                    built[stage] = _set_up(specs[stage])
                entry["threshold"] = built[stage].thresholds().get(col)
                if not entry["rejected_by"] and rescore:
                    later = order[order.index(stage):]
                    entry.update(_rescore(built[stage], specs[stage][1]["name"], col, rejects["files"], later,
                                          rescore))
            # a custom stage that cannot be rebuilt here: say so, keep the rest
            except Exception as e:  # noqa: BLE001
                log.warning("report: cannot rebuild stage %s: %s", stage, e)
                entry["rescore_error"] = f"{type(e).__name__}: {e}"
        out[col] = entry
    return out


def _rejected_by(col: str, files: list[str]) -> dict[str, list[int]]:
    """{rejecting stage: histogram of `col`} from the rejects' own score columns."""
    hists: dict[str, Histogram] = {}
    for b in batches(files, ["stage", col]):
        if col not in b.schema.names:
            continue
        t = pa.Table.from_batches([b])
        t = t.filter(pc.is_valid(t.column(col)))
        for stage in pc.unique(t.column("stage")).to_pylist():
            rows = t.filter(pc.equal(t.column("stage"), stage))
            hists.setdefault(stage, Histogram(SCORE_EDGES)).add(rows.column(col))
    return {stage: h.counts.tolist() for stage, h in hists.items()}


def _set_up(spec_entry):
    from mdfs.config import StageSpec
    from mdfs.registry import build_stage

    index, raw = spec_entry
    stage = build_stage(StageSpec.model_validate(raw), index)
    stage.setup()
    return stage


def _rescore(stage, name: str, col: str, files: list[str], stages: list[str], k: int) -> dict:
    sampler = Sampler(k, seed=1)
    for b in batches(files, ["id", "stage", "text"]):
        t = pa.Table.from_batches([b])
        if "text" not in t.column_names:
            return {}
        t = t.filter(pc.and_(pc.is_in(t.column("stage"), pa.array(stages)), pc.is_valid(t.column("text"))))
        if t.num_rows:
            sampler.add([0] * t.num_rows, t.select(["id", "text"]))
    rows = sampler.rows(0)
    hist = Histogram(SCORE_EDGES)
    if rows:
        scored = stage.process(
            pa.table({"id": [r["id"] for r in rows], "text": [r["text"] for r in rows]}),
            StageContext(name, "report"),
        )
        hist.add(scored.column(col))
    return {"rejected": hist.counts.tolist(), "rejected_sample": len(rows), "rejected_stages": stages}
