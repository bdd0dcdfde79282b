"""`mdfs eval --gold`: how much of each page's gold main text a finished run kept, and how much else.

For every page of a gold file (`mdfs.goldtext`), the text the run kept (`data/`) is scored against the
gold with `mdfs.charmetric`, both sides converted to Simplified (the recipe's OpenCC does so to the
kept text). A page dropped by any stage scores 0 and is listed with the stage, reason and detail; its
text at the time it was dropped (`rejects/`, with `output.keep_rejected_text`) gives "F1 had it been
kept", which separates whole-page losses from losses inside pages.

Per page type (and per set): mean precision, recall and F1 over pages (macro; dropped pages count 0),
and the boilerplate share: characters kept that the gold does not have, over all characters kept
(summed over the kept pages of the type: Σ|E − G| / Σ|E|).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from pathlib import Path

from mdfs import storage
from mdfs.charmetric import Overlap
from mdfs.errors import MdfsError
from mdfs.goldtext import gold_text, read_gold_file


def _rows(folder: str, columns: list[str], ids: set[str]) -> list[dict]:
    """The named columns of the rows of `ids` in the Parquet files under `folder` (only those rows are
    materialised: a run's corpus can be large)."""
    import pyarrow.dataset as pds
    import pyarrow.parquet as pq

    rows = []
    for path in storage.list_files(folder):
        if not path.endswith(".parquet"):
            continue
        fs, local = storage.resolve(path)
        present = [c for c in columns if c in pq.read_schema(local, filesystem=fs).names]
        rows += storage.read_parquet(path, present, filter=pds.field("id").isin(sorted(ids))).to_pylist()
    return rows


def _texts(run_dir: str, ids: set[str]) -> dict[str, dict]:
    """id → {kept, text, stage, reason, detail} for the documents of `ids` in a run."""
    out: dict[str, dict] = {}
    for row in _rows(storage.join(run_dir, "data"), ["id", "text"], ids):
        out[row["id"]] = {"kept": True, "text": row.get("text") or ""}
    for row in _rows(storage.join(run_dir, "rejects"), ["id", "text", "stage", "reason", "detail"], ids):
        if row.get("id") is not None and row["id"] not in out:
            out[row["id"]] = {"kept": False, "text": row.get("text") or "", "stage": row.get("stage") or "",
                              "reason": row.get("reason") or "", "detail": row.get("detail") or ""}
    return out


def _finished(run_dir: str) -> bool:
    return any(p.endswith(".parquet") for d in ("data", "rejects")
               for p in storage.list_files(storage.join(run_dir, d)))


def _converter():
    import opencc

    return opencc.OpenCC("t2s").convert


def score_pages(run_dir: str, gold_path: str, split: str | None = None,
                root: Path | None = None) -> list[dict]:
    """One row per gold page: its outcome in the run and its character scores."""
    if not _finished(run_dir):
        raise MdfsError(f"{run_dir}: no documents in data/ or rejects/: not a finished mdfs run")
    gold = read_gold_file(gold_path, split)
    seen = _texts(run_dir, {g["id"] for g in gold})
    convert = _converter()
    pages = []
    for g in gold:
        doc = seen.get(g["id"])
        row = {k: g.get(k, "") for k in ("id", "type", "set", "site", "split")}
        if doc is None:
            pages.append(row | {"missing": True})
            continue
        o = Overlap.of(doc["text"], gold_text(g, root), convert=convert)
        row |= {"kept": doc["kept"], "gold_chars": o.gold}
        if doc["kept"]:
            row |= {"chars": o.text, "boilerplate_chars": o.boilerplate, "p": o.precision, "r": o.recall,
                    "f1": o.f1, "f1_if_kept": o.f1}
        else:
            row |= {"chars": 0, "boilerplate_chars": 0, "p": 0.0, "r": 0.0, "f1": 0.0, "f1_if_kept": o.f1,
                    "stage": doc["stage"], "reason": doc["reason"], "detail": doc["detail"]}
        pages.append(row)
    return pages


def summarize(pages: list[dict], key: str) -> list[dict]:
    """Per value of `key` (type, set) and for all pages: macro P/R/F1, drops, boilerplate share."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for p in pages:
        if not p.get("missing"):
            groups[p[key]].append(p)
            groups["all"].append(p)
    table = []
    for name, rows in sorted(groups.items(), key=lambda kv: (kv[0] == "all", kv[0])):
        kept_chars = sum(r["chars"] for r in rows)
        table.append({key: name, "pages": len(rows), "dropped": sum(not r["kept"] for r in rows),
                      **{m: round(statistics.mean(r[m] for r in rows), 4)
                         for m in ("f1", "p", "r", "f1_if_kept")},
                      "boilerplate_share": round(sum(r["boilerplate_chars"] for r in rows) / max(kept_chars,
                                                                                                 1), 4),
                      "chars_kept": kept_chars, "gold_chars": sum(r["gold_chars"] for r in rows)})
    return table


def evaluate_maintext(run_dir: str, gold_path: str, split: str | None = None,
                      root: Path | None = None) -> dict:
    pages = score_pages(run_dir, gold_path, split, root)
    return {"run": run_dir, "gold": gold_path, "split": split, "pages": pages,
            "types": summarize(pages, "type"), "sets": summarize(pages, "set"),
            "missing": [p["id"] for p in pages if p.get("missing")]}


def format_maintext(res: dict, show: int = 15) -> str:
    lines = [f"main text: run {res['run']}  gold {res['gold']}  split {res['split'] or 'all'}",
             "macro means over pages (a dropped page scores 0); boilerplate = kept characters "
             "not in the gold / kept characters; F1 if kept = had no stage dropped a page"]
    for key, table in (("type", res["types"]), ("set", res["sets"])):
        lines.append(f"\n{key:12} {'pages':>5} {'dropped':>7} {'F1':>6} {'P':>6} {'R':>6} "
                     f"{'boilerplate':>11} {'F1 if kept':>10}")
        lines += [f"{r[key]:12} {r['pages']:5} {r['dropped']:7} {r['f1']:6.3f} {r['p']:6.3f} {r['r']:6.3f} "
                  f"{r['boilerplate_share']:11.1%} {r['f1_if_kept']:10.3f}" for r in table]
    dropped = [p for p in res["pages"] if p.get("kept") is False]
    lines.append(f"\ndropped pages ({len(dropped)}):")
    lines += [f"  {p['id']} [{p['type']}] {p['stage']}/{p['reason']} {p['detail'][:80]}  "
              f"(F1 if kept {p['f1_if_kept']:.2f})" for p in dropped]
    kept = sorted((p for p in res["pages"] if p.get("kept")), key=lambda p: p["f1"])
    lines.append(f"\nlowest F1 of the kept pages (of {len(kept)}):")
    lines += [f"  {p['id']} [{p['type']}] F1 {p['f1']:.2f} P {p['p']:.2f} R {p['r']:.2f} {p['site']}"
              for p in kept[:show]]
    if res["missing"]:
        lines.append(f"\n{len(res['missing'])} gold ids are not in the run, e.g. {res['missing'][:3]}")
    return "\n".join(lines) + "\n"
