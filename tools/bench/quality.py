"""Scoring throughput of the quality stage per core, tokenisation included, for each tokenizer.

    python -m tools.bench.quality [--shared ../shared/corpora] [--repeat 3] [--json bench-quality.json]

What is timed: `QualityFilter.process` on Arrow batches of 1,000 documents (text out of Arrow,
tokenise, fastText predict, score column in), in one process pinned to one CPU; the best of
`--repeat` runs counts. MB are UTF-8 bytes of the documents' full text, so a bounded prefix makes long
documents cheap per MB: the table shows long and short documents separately.

Documents (all prepared as the collection stage leaves them: normalised, Simplified):
- wiki-docs: the wiki-zh paragraphs (CMRC + DRCD) concatenated into documents of 5–20 KB (seeded);
- html-zh: the human-checked main texts of the magic-html pages and the readability articles;
- wiki-paragraphs: the paragraphs one by one (about 1.4 KB each): the worst case for a prefix.

Models: `chars` is the bundled model. The `jieba` models are trained here, by `mdfs.quality.train.fit`
with the default hyper-parameters, on the training split of the bundled model's data
(tools/models/train_default.py, same seed), and measured on its held-out split (F1, ROC AUC), so
speed and accuracy of each prefix length sit side by side. The obvious alternative is the Python jieba
package: same words as rjieba without HMM, so the 2,000-character model scores its tokens unchanged;
every row shows its speed ratio to it. "whole document" drops the prefix bound.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path

import pyarrow as pa

from mdfs.quality.model import PrepareConfig, QualityModel, prepare_function
from mdfs.quality.tokens import TokenizerConfig, make_tokenizer
from mdfs.quality.train import Example, TrainConfig, evaluate_examples, fit
from mdfs.stage import StageContext
from mdfs.stages.quality import DEFAULT_MODEL, QualityFilter
from mdfs.goldtext import shared_corpora

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_SHARED = shared_corpora()
BAR_MB_S = 5.0  # the bar, per core
UNBOUNDED = 10**9
ALTERNATIVE = "jieba (Python package), 2000"
# name: (tokenizer to train with or None for the bundled model, max_chars to score with or None for as
# trained, tokenise with the Python jieba package instead of rjieba)
VARIANTS: dict[str, tuple[TokenizerConfig | None, int | None, bool]] = {
    "chars, 2000 (bundled model)": (None, None, False),
    "jieba, 500": (TokenizerConfig(kind="jieba", max_chars=500), None, False),
    "jieba, 1000": (TokenizerConfig(kind="jieba", max_chars=1000), None, False),
    "jieba, 2000": (TokenizerConfig(kind="jieba", max_chars=2000), None, False),
    "jieba, 2000 + char 1-grams": (TokenizerConfig(kind="jieba", max_chars=2000, char_ngrams=1), None, False),
    "jieba, 2000, HMM": (TokenizerConfig(kind="jieba", max_chars=2000, hmm=True), None, False),
    "jieba, whole document": (TokenizerConfig(kind="jieba", max_chars=2000), UNBOUNDED, False),
    ALTERNATIVE: (TokenizerConfig(kind="jieba", max_chars=2000), None, True),
}


def python_jieba(max_chars: int):
    """The same tokens as the `jieba` tokenizer without HMM, from the Python jieba package."""
    import jieba

    jieba.setLogLevel(30)
    tokenizer = jieba.Tokenizer()
    return lambda text: " ".join(" ".join(tokenizer.lcut(text[:max_chars], HMM=False)).split())


def wiki_paragraphs(shared: Path) -> list[str]:
    out = []
    for name in ("cmrc2018_paragraphs.zh-Hans.jsonl", "drcd_paragraphs.zh-Hant-TW.jsonl"):
        with open(shared / "wiki-zh" / name, encoding="utf-8") as f:
            out += [json.loads(line)["text"] for line in f]
    return out


def concatenate(paragraphs: list[str], seed: int = 0) -> list[str]:
    """Consecutive paragraphs joined into documents of 5–20 KB (UTF-8), sizes drawn with `seed`."""
    rng, docs, cur, size = random.Random(seed), [], [], 0
    target = rng.randint(5_000, 20_000)
    for p in paragraphs:
        cur.append(p)
        size += len(p.encode())
        if size >= target:
            docs.append("\n".join(cur))
            cur, size, target = [], 0, rng.randint(5_000, 20_000)
    return docs


def html_texts(shared: Path) -> list[str]:
    from tools.models.train_default import readability_articles

    texts = []
    for kind in ("article", "forum"):
        truth = json.loads((shared / "html-zh" / "magic-html" / kind / "groundtruth.json").read_text("utf-8"))
        texts += [entry["content"] for _, entry in sorted(truth.items())]
    return texts + list(readability_articles(shared).values())


def train_variants(shared: Path, folder: Path) -> dict[str, dict]:
    """Train one jieba model per tokenizer setting on the bundled model's training split; held-out
    metrics for those and for the bundled model on its test split."""
    from tools.models.train_default import build_dataset, split_by_group

    seed = 20240501
    train_docs, test_docs = split_by_group(build_dataset(shared, seed), 0.2, seed)
    out: dict[str, dict] = {}
    for name, (tok, max_chars, python) in VARIANTS.items():
        path = folder / f"jieba-{tok.max_chars}-{tok.char_ngrams}-{tok.hmm}.bin" if tok else DEFAULT_MODEL
        tokenize = make_tokenizer(tok or TokenizerConfig())
        test = [Example(d.label, b"", tokenize(d.text)) for d in test_docs]
        if not path.exists():
            cfg = TrainConfig(tokenizer=tok)
            fit([Example(d.label, b"", tokenize(d.text)) for d in train_docs], cfg, path)
        held = evaluate_examples(QualityModel.load(path), test, 0.5)
        out[name] = {"model": str(path), "max_chars": max_chars, "python_jieba": python, "f1": held["f1"],
                     "roc_auc": held["roc_auc"], "held_out_n": held["n"]}
    return out


def throughput(stage: QualityFilter, docs: list[str], repeat: int, batch_size: int = 1000) -> float:
    """MB/s of `stage.process` over `docs` in batches; best of `repeat`."""
    batches = [pa.table({"text": pa.array(docs[i:i + batch_size], pa.string())})
               for i in range(0, len(docs), batch_size)]
    mb = sum(len(d.encode()) for d in docs) / 1e6
    ctx = StageContext("quality", "bench")
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for b in batches:
            stage.process(b, ctx)
        best = min(best, time.perf_counter() - t0)
    return mb / best


def markdown(results: dict, corpora: dict) -> str:
    names = list(corpora)
    head = ("| tokenizer, prefix (chars) | " + " | ".join(f"MB/s {n}" for n in names)
            + " | ≥ 5 MB/s (long docs) | × Python jieba | held-out F1 | ROC AUC |")
    rows = [head, "|" + "---|" * (head.count("|") - 1)]
    alt = results[ALTERNATIVE]["mb_per_s"][names[0]]
    for name, r in results.items():
        speeds = r["mb_per_s"]
        ok = "yes" if min(speeds[n] for n in names[:2]) >= BAR_MB_S else "no"
        rows.append(f"| {name} | " + " | ".join(f"{speeds[n]:.2f}" for n in names)
                    + f" | {ok} | {speeds[names[0]] / alt:.1f}× | {r['f1']:.4f} | {r['roc_auc']:.4f} |")
    sizes = ", ".join(f"{n}: {c['docs']} docs, {c['mb']:.2f} MB, median {c['median_kb']:.1f} KB"
                      for n, c in corpora.items())
    return "\n".join(rows) + f"\n\nDocuments — {sizes}."


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    ap.add_argument("--repeat", type=int, default=3, help="timing runs per model and corpus; the best counts")
    ap.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: the last one)")
    ap.add_argument("--json", type=Path, default=Path("bench-quality.json"))
    args = ap.parse_args(argv)

    prepare = prepare_function(PrepareConfig())
    paragraphs = [prepare(p) for p in wiki_paragraphs(args.shared)]
    corpora = {"wiki-docs": concatenate(paragraphs), "html-zh": [prepare(t) for t in html_texts(args.shared)],
               "wiki-paragraphs": paragraphs}
    info = {}
    for n, docs in corpora.items():
        sizes = sorted(len(d.encode()) for d in docs)
        info[n] = {"docs": len(docs), "mb": sum(sizes) / 1e6, "median_kb": sizes[len(sizes) // 2] / 1e3}

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        results = train_variants(args.shared, Path(tmp))
        t_train = time.perf_counter() - t0
        cpu = args.cpu if args.cpu is not None else max(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})  # one core: MB/s per core, whatever the libraries do
        for r in results.values():
            stage = QualityFilter("quality", QualityFilter.Params(model=r["model"], max_chars=r["max_chars"]))
            stage.setup()
            if r["python_jieba"]:
                stage.model.tokenize = python_jieba(stage.model.sidecar.tokenizer.max_chars)
            stage.score(corpora["html-zh"][:10])  # warm-up: jieba's dictionary loads on first use
            repeat = 1 if r["python_jieba"] else args.repeat
            r["mb_per_s"] = {n: throughput(stage, docs, repeat) for n, docs in corpora.items()}
            r["model"] = Path(r["model"]).name
    print(f"quality scoring, one process pinned to CPU {cpu}, best of {args.repeat}; "
          f"{os.cpu_count()} CPUs on the machine, load average {os.getloadavg()[0]:.2f}\n")
    print(markdown(results, info))
    args.json.write_text(json.dumps({"bar_mb_per_s": BAR_MB_S, "cpu": cpu, "repeat": args.repeat,
                                     "train_seconds": round(t_train, 1), "corpora": info, "results": results},
                                    indent=2, ensure_ascii=False))
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
