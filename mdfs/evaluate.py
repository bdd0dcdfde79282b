"""`mdfs eval`: how a finished run treated a labelled set of documents.

A labels file is JSONL with `id`, `label` (`keep` or `drop`) and `category`, optionally `split` and
`family`. Every labelled id is looked up in the run's corpus (`data/`) and rejects (`rejects/<stage>/`),
and the run is scored per category: for clean categories the share kept, for junk categories the share
removed, and each wrongly dropped document with the stage, reason and detail that dropped it. A clean
document removed as a duplicate is not a loss of text (its twin is kept), so it is counted apart.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import pyarrow.parquet as pq

from mdfs import storage
from mdfs.errors import MdfsError

DEDUP_STAGES = {"dedup"}


@dataclass
class Outcome:
    kept: bool
    stage: str = ""
    reason: str = ""
    detail: str = ""
    scores: dict = field(default_factory=dict)


def _read(folder: str, columns: list[str]) -> list[dict]:
    """The named columns and every quality score of each Parquet file under `folder`."""
    rows = []
    for path in storage.list_files(folder):
        if not path.endswith(".parquet"):
            continue
        fs, local = storage.resolve(path)
        names = pq.read_schema(local, filesystem=fs).names
        wanted = [c for c in names if c in columns or c.startswith("quality__")]
        rows += storage.read_parquet(path, columns=wanted).to_pylist()
    return rows


def outcomes(run_dir: str) -> dict[str, Outcome]:
    """Where each document of a run ended: kept, or dropped by a stage for a reason."""
    out: dict[str, Outcome] = {}
    for row in _read(storage.join(run_dir, "data"), ["id"]):
        out[row.pop("id")] = Outcome(True, scores=row)
    rejects = storage.join(run_dir, "rejects")
    for row in _read(rejects, ["id", "stage", "reason", "detail"]):
        if row.get("id") is not None:
            doc_id = row.pop("id")
            out[doc_id] = Outcome(False, row.pop("stage", "") or "", row.pop("reason", "") or "",
                                  row.pop("detail", "") or "", scores=row)
    return out


def read_rows(path: str, split: str | None, valid, need: str, what: str) -> list[dict]:
    """The JSON rows of a labels or gold file (of one split, if given); each must pass `valid`, else the
    error names the line and what it `need`s."""
    rows = []
    for n, line in enumerate(storage.read_bytes(path).decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise MdfsError(f"{path}:{n}: not JSON: {e}") from None
        if not valid(row):
            raise MdfsError(f"{path}:{n}: needs {need}")
        if split is None or row.get("split") == split:
            rows.append(row)
    if not rows:
        raise MdfsError(f"{path}: no {what}" + (f" with split {split!r}" if split else ""))
    return rows


def read_labels(path: str, split: str | None) -> list[dict]:
    return read_rows(path, split, lambda r: r.get("label") in ("keep", "drop") and "id" in r,
                     "an id and a label of keep or drop", "labels")


def evaluate(run_dir: str, labels_path: str, split: str | None = None) -> dict:
    labels = read_labels(labels_path, split)
    seen = outcomes(run_dir)
    if not seen:
        raise MdfsError(f"{run_dir}: no documents in data/ or rejects/: not a finished mdfs run")
    cats: dict[tuple[str, str], Counter] = defaultdict(Counter)
    fams: dict[tuple[str, str], Counter] = defaultdict(Counter)
    rules: dict[str, Counter] = defaultdict(Counter)
    false_drops, false_keeps, missing = [], [], []
    tp = fp = fn = 0
    for lab in labels:
        o = seen.get(lab["id"])
        key = (lab["label"], lab.get("category", "?"))
        if o is None:
            missing.append(lab["id"])
            continue
        dedup = not o.kept and o.stage in DEDUP_STAGES
        if not o.kept:
            rules[f"{o.stage}/{o.reason}"]["junk_caught" if lab["label"] == "drop" else "clean_lost"] += 1
        for c in (cats[key], fams[(lab["label"], lab.get("family", "?"))]):
            c["n"] += 1
            c["kept" if o.kept else "dedup" if dedup else "dropped"] += 1
        if lab["label"] == "keep":
            tp += o.kept
            fn += not o.kept and not dedup
            if not o.kept and not dedup:
                false_drops.append({"id": lab["id"], "category": key[1], "stage": o.stage, "reason": o.reason,
                                    "detail": o.detail})
        else:
            fp += o.kept
            if o.kept:
                false_keeps.append({"id": lab["id"], "category": key[1],
                                    **{k: v for k, v in o.scores.items() if isinstance(v, int | float)}})
    return {"run": run_dir, "labels": labels_path, "split": split, "documents": len(labels) - len(missing),
            "missing": missing, "keep_precision": round(tp / max(tp + fp, 1), 4),
            "keep_recall": round(tp / max(tp + fn, 1), 4), "categories": _table(cats, "category"),
            "families": _table(fams, "family"),
            "rules": [{"rule": k, "junk_caught": c["junk_caught"], "clean_lost": c["clean_lost"]}
                      for k, c in sorted(rules.items(), key=lambda kv: -kv[1]["junk_caught"])],
            "false_drops": false_drops, "false_keeps": false_keeps}


def _table(counts: dict[tuple[str, str], Counter], name: str) -> list[dict]:
    """Rows of a per-category (or per-family) table: keep rows rate the share kept of the non-duplicates,
    drop rows the share removed (by any stage, dedup included)."""
    table = []
    for (label, key), c in sorted(counts.items()):
        rate = c["kept"] / max(c["n"] - c["dedup"], 1) if label == "keep" \
            else (c["dropped"] + c["dedup"]) / c["n"]
        table.append({"label": label, name: key, "n": c["n"], "kept": c["kept"], "dropped": c["dropped"],
                      "dedup": c["dedup"], "rate": round(rate, 4)})
    return table


def format_eval(res: dict, show: int = 50) -> str:
    lines = [f"run {res['run']}  labels {res['labels']}  split {res['split'] or 'all'}  "
             f"documents {res['documents']}",
             f"keep precision {res['keep_precision']:.4f}  keep recall {res['keep_recall']:.4f}",
             "rate: for keep rows the share kept (duplicates removed by dedup left out), for drop rows the "
             "share removed"]
    for name in ("category", "family"):
        lines.append(f"\n{'label':5} {name:30} {'n':>5} {'kept':>5} {'dropped':>7} {'dedup':>5}  rate")
        for r in res["categories" if name == "category" else "families"]:
            lines.append(f"{r['label']:5} {r[name]:30} {r['n']:5} {r['kept']:5} {r['dropped']:7} "
                         f"{r['dedup']:5}  {r['rate']:.3f}")
    lines.append(f"\n{'rule (stage/reason)':40} {'junk caught':>11} {'clean lost':>10}")
    lines += [f"{r['rule']:40} {r['junk_caught']:11} {r['clean_lost']:10}" for r in res["rules"]]
    if res["missing"]:
        lines.append(f"\n{len(res['missing'])} labelled ids are not in the run, e.g. {res['missing'][:3]}")
    lines.append(f"\nwrongly dropped ({len(res['false_drops'])}):")
    for d in res["false_drops"][:show]:
        lines.append(f"  {d['id']} [{d['category']}] {d['stage']}/{d['reason']} {d['detail'][:100]}")
    lines.append(f"\nwrongly kept ({len(res['false_keeps'])}):")
    by_cat = Counter(d["category"] for d in res["false_keeps"])
    lines += [f"  {cat}: {n}, e.g. {next(d['id'] for d in res['false_keeps'] if d['category'] == cat)}"
              for cat, n in by_cat.most_common()]
    return "\n".join(lines) + "\n"
