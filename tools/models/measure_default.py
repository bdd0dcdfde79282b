"""Measure the bundled quality model the way a user would, and the score distributions in docs/quality.md.

1. Held-out F1: the test split of `train_default.py` (same seed: the pages, articles and templates the
   model never saw) is written as labelled JSONL and scored with `mdfs quality eval`, with and without
   the synthetic negatives.
2. The user's path on the same data: `mdfs quality train` (defaults: jieba tokenizer) on the training
   split written as JSONL, then `mdfs quality eval` of that model on the same held-out JSONL.
3. Score distributions (deciles, 10-bin histograms) of whole documents as the pipeline would see them
   (prepared, and above the coarse stage's floor): clean = wiki-zh paragraphs, held-out wiki paragraphs
   joined into 5–20 KB documents, html-zh ground-truth main texts (whole, not chunked), the readability
   articles; junk = whole Chinese spam pages of cc-warc (text by a crude stdlib parse, as in
   train_default.py) and each html-zh page's boilerplate (all its text outside the ground truth, as one
   document). Held-out and all documents are reported apart: the model was trained on chunks of most
   of these pages.

Re-run from the repository root:  python -m tools.models.measure_default [--corpora DIR] [--json PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import tempfile
from pathlib import Path

import numpy as np

from tools.bench.quality import concatenate
from mdfs.cli import main as mdfs_main
from mdfs.goldtext import shared_corpora
from mdfs.quality.metrics import deciles
from mdfs.quality.model import QualityModel
from tools.pages import page_lines
from tools.models.train_default import (
    CJK,
    HQ,
    REPO,
    T2S,
    build_dataset,
    decode_html,
    in_scope,
    prepare,
    readability_articles,
    split_by_group,
    warc_responses,
)
from mdfs.stages.quality import DEFAULT_MODEL

SEED = 20240501
HELD = "held-out"  # the group of documents made only of held-out or never-trained text


def write_labelled(path: Path, docs) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(json.dumps({"text": d.text, "label": "hq" if d.label == HQ else "lq",
                                 "source": d.source}, ensure_ascii=False) + "\n" for d in docs)
    return path


def cli(*argv: str) -> tuple[int, str]:
    """Run `mdfs ...` in this process; its exit code and what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = mdfs_main(["--log-level", "WARNING", *argv])
    return code, out.getvalue()


def magic_pages(corpora: Path) -> list[tuple[str, str, str]]:
    """(group, whole ground-truth main text, whole boilerplate text) per magic-html page."""
    pages = []
    for kind in ("article", "forum"):
        folder = corpora / "html-zh" / "magic-html" / kind
        truth = json.loads((folder / "groundtruth.json").read_text(encoding="utf-8"))
        for stem, entry in sorted(truth.items()):
            compact = re.sub(r"\s+", "", entry["content"])
            lines = page_lines(decode_html((folder / f"{stem}.html").read_bytes()), title=False)
            boiler = [line for line in lines if re.sub(r"\s+", "", line) not in compact]
            pages.append((f"magic:{stem}", entry["content"], "\n".join(boiler)))
    return pages


def spam_pages(corpora: Path) -> list[tuple[str, str]]:
    """(group, all text of the page) for the Chinese responses of the WARC excerpt."""
    out = []
    for uri, html in warc_responses(corpora / "cc-warc" / "warcfile.warc"):
        text = "\n".join(page_lines(html, title=False))
        if len(CJK.findall(text)) >= 0.2 * max(len(text), 1):
            out.append((f"warc:{uri}", text))
    return out


def distributions(corpora: Path, test_groups: set[str]) -> dict[str, dict]:
    """Score summaries per kind of document, held-out and all."""
    wiki = []
    for name in ("cmrc2018_paragraphs.zh-Hans.jsonl", "drcd_paragraphs.zh-Hant-TW.jsonl"):
        with open(corpora / "wiki-zh" / name, encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                wiki.append((f"wiki:{T2S.convert(row['title'])}", row["text"]))
    pages, spam = magic_pages(corpora), spam_pages(corpora)
    kinds = {
        "clean: wiki-zh paragraphs": wiki,
        "clean: wiki-zh documents of 5–20 KB": [(HELD, t) for t in concatenate([t for g, t in wiki
                                                                                 if g in test_groups])],
        "clean: html-zh ground-truth main text": [(g, main) for g, main, _ in pages],
        "clean: readability articles (never trained on)": [(HELD, t)
                                                           for t in readability_articles(corpora).values()],
        "junk: cc-warc spam pages": spam,
        "junk: html-zh boilerplate (per page)": [(g, boiler) for g, _, boiler in pages],
    }
    model = QualityModel.load(DEFAULT_MODEL)
    out = {}
    for kind, items in kinds.items():
        docs = [(g, prepare(t)) for g, t in items]
        docs = [(g, t) for g, t in docs if in_scope(t)]  # what survives the coarse stage's floor
        score = model.score([t for _, t in docs])
        held = np.array([g in test_groups or g == HELD for g, _ in docs])
        out[kind] = {"all": summary(score), "held_out": summary(score[held]) if held.any() else None,
                     "share_from_training_groups": round(float(1 - held.mean()), 4)}
    return out


def summary(score: np.ndarray) -> dict:
    hist, _ = np.histogram(score, bins=10, range=(0.0, 1.0))
    return {"n": int(score.size), "mean": round(float(score.mean()), 4),
            "share_ge_0.5": round(float((score >= 0.5).mean()), 4), "deciles": deciles(score),
            "histogram_10_bins": hist.tolist()}


def markdown(dist: dict) -> str:
    head = "| documents | set | n | mean | ≥ 0.5 | p10 | p20 | p30 | p40 | p50 | p60 | p70 | p80 | p90 |"
    rows = [head, "|" + "---|" * (head.count("|") - 1)]
    for kind, d in dist.items():
        for side in ("held_out", "all"):
            s = d[side]
            if s is None or (side == "all" and d["held_out"] is not None and d["held_out"]["n"] == s["n"]):
                continue
            cells = " | ".join(f"{v:.3f}" for v in s["deciles"][1:10])
            rows.append(f"| {kind} | {side.replace('_', '-')} | {s['n']} | {s['mean']:.3f} | "
                        f"{s['share_ge_0.5']:.0%} | {cells} |")
    bins = " | ".join(f"{i / 10:.1f}–{(i + 1) / 10:.1f}" for i in range(10))
    hist = ["", f"| documents | set | {bins} |", "|" + "---|" * 12]
    for kind, d in dist.items():
        s = d["held_out"] or d["all"]
        side = "held-out" if d["held_out"] else "all"
        hist.append(f"| {kind} | {side} | " + " | ".join(str(c) for c in s["histogram_10_bins"]) + " |")
    return "\n".join(rows + hist)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpora", type=Path, default=shared_corpora())
    ap.add_argument("--json", type=Path, default=REPO / "docs" / "quality-measurements.json")
    args = ap.parse_args()

    train_docs, test_docs = split_by_group(build_dataset(args.corpora, SEED), 0.2, SEED)
    test_groups = {d.group for d in test_docs}
    result: dict = {"seed": SEED, "held_out_docs": len(test_docs), "train_docs": len(train_docs)}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        held = write_labelled(tmp / "held_out.jsonl", test_docs)
        real = write_labelled(tmp / "held_out_real.jsonl",
                              [d for d in test_docs if not d.source.startswith("synthetic/")])
        for name, path in (("bundled", held), ("bundled_real_only", real)):
            code, printed = cli("quality", "eval", "--model", str(DEFAULT_MODEL), "--labelled", str(path),
                                "--no-prepare", "--json", str(tmp / f"{name}.json"))
            assert code == 0, printed
            print(printed)
            result[f"eval_{name}"] = json.loads((tmp / f"{name}.json").read_text())
        pos = write_labelled(tmp / "pos.jsonl", [d for d in train_docs if d.label == HQ])
        neg = write_labelled(tmp / "neg.jsonl", [d for d in train_docs if d.label != HQ])
        (tmp / "hyper.yaml").write_text("fasttext: {thread: 2}\nquantize: {enabled: true}\n")
        code, printed = cli("quality", "train", "--positive", str(pos), "--negative", str(neg), "--output",
                            str(tmp / "user.ftz"), "--config", str(tmp / "hyper.yaml"))
        assert code == 0, printed
        print(printed)
        result["user_train_metrics"] = json.loads((tmp / "user.ftz.metrics.json").read_text())
        result["user_model_bytes"] = (tmp / "user.ftz").stat().st_size
        for name, path in (("user_model", held), ("user_model_real_only", real)):
            code, printed = cli("quality", "eval", "--model", str(tmp / "user.ftz"), "--labelled", str(path),
                                "--json", str(tmp / f"{name}.json"))
            assert code == 0, printed
            print(printed)
            result[f"eval_{name}"] = json.loads((tmp / f"{name}.json").read_text())
    result["distributions"] = distributions(args.corpora, test_groups)
    print(markdown(result["distributions"]))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
