"""`mdfs quality train | eval | score`: train your own quality model, measure one, score a corpus.

Imports stay light here (the parser is built on every `mdfs` call); the work is imported when a
command runs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mdfs.errors import ConfigError, InputError


def add_quality_parser(sub, parents: list[argparse.ArgumentParser]) -> None:
    q = sub.add_parser("quality", help="train, evaluate and apply fastText quality models", parents=parents)
    qsub = q.add_subparsers(dest="quality_command", required=True)

    t = qsub.add_parser("train", parents=parents,
                        help="train a model on positive and negative examples; held-out metrics")
    t.add_argument("--positive", "-p", action="append", required=True, metavar="PATH",
                   help="high-quality documents: file, folder or glob (JSONL, Parquet, .txt; repeatable)")
    t.add_argument("--negative", "-n", action="append", required=True, metavar="PATH",
                   help="low-quality documents (repeatable)")
    t.add_argument("--extra-class", action="append", default=[], metavar="NAME=PATH",
                   help="a further low-quality class, e.g. ad=ads.jsonl (repeatable)")
    t.add_argument("--output", "-o", required=True,
                   help="model file to write (.bin, or .ftz with --quantize)")
    t.add_argument("--config", "-c", help="hyper-parameters (YAML); see configs/quality_train.yaml")
    t.add_argument("--quantize", action="store_true", help="write a small quantised model")
    _input_args(t)

    e = qsub.add_parser("eval", parents=parents,
                        help="precision, recall, F1 and ROC AUC of a model on labelled documents")
    e.add_argument("--model", "-m", help="fastText model (default: the bundled model)")
    e.add_argument("--labelled", "-l", action="append", required=True, metavar="PATH",
                   help="JSONL or Parquet with a text and a label field (repeatable)")
    e.add_argument("--label-field", default="label")
    e.add_argument("--positive-values", help="comma-separated label values meaning high quality "
                                             "(default: hq,1,true,pos,positive,__label__hq)")
    e.add_argument("--negative-values", help="comma-separated label values meaning low quality (default: "
                                             "lq,0,false,neg,negative,__label__lq, the model's other labels)")
    e.add_argument("--threshold", type=float, default=0.5)
    e.add_argument("--no-prepare", action="store_true",
                   help="texts already went through the collection stage: do not normalise them again")
    e.add_argument("--json", help="also write the metrics to this file")
    _input_args(e)

    s = qsub.add_parser("score", parents=parents, help="add quality__score to a corpus, dropping nothing")
    s.add_argument("--model", "-m", help="fastText model (default: the bundled model)")
    s.add_argument("--input", "-i", action="append", required=True, help="file, folder or glob (repeatable)")
    s.add_argument("--output", "-o", required=True, help="run directory (corpus in data/, as `mdfs run`)")
    s.add_argument("--no-prepare", action="store_true",
                   help="texts already went through the collection stage: score them exactly as stored")
    s.add_argument("--engine", choices=["ray", "serial"], default="ray")
    s.add_argument("--workers", type=int)
    s.add_argument("--ray-address")
    s.add_argument("--force", action="store_true", help="replace a previous run with a different config")
    _input_args(s)


def _input_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--text-field", default="text")
    p.add_argument("--format", default="auto", choices=["auto", "jsonl", "parquet", "txt"])


def run_quality(args) -> int:
    return {"train": _train, "eval": _eval, "score": _score}[args.quality_command](args)


def _train(args) -> int:
    from mdfs.quality.metrics import summary_line
    from mdfs.quality.train import HQ, LQ, class_label, load_train_config, metrics_path, run_training

    cfg = load_train_config(args.config, quantize=args.quantize)
    sources = {HQ: args.positive, LQ: args.negative}
    for item in args.extra_class:
        name, sep, path = item.partition("=")
        if not sep or not path:
            raise ConfigError(f"--extra-class {item!r}: expected NAME=PATH")
        sources.setdefault(class_label(name), []).append(path)
    m = run_training(sources, args.output, cfg, args.text_field, args.format)
    print(f"trained {args.output} on {m['docs']['train']} ({m['seconds']['train']} s)")
    _print_metrics("held-out", m["held_out"], summary_line)
    print(f"  metrics: {metrics_path(args.output)}")
    print(f"  sidecar: {args.output}.json (tokenizer {cfg.tokenizer.kind}, prefix {cfg.tokenizer.max_chars})")
    return 0


def _eval(args) -> int:
    import numpy as np

    from mdfs.quality.data import NEGATIVE_VALUES, POSITIVE_VALUES, read_labelled
    from mdfs.quality.metrics import binary_metrics, per_label, summary_line

    scorer = _scorer(args.model, prepare=not args.no_prepare)
    model = scorer.model
    positive = _values(args.positive_values) or POSITIVE_VALUES
    others = [label.lower() for label in model.labels if label != model.positive_label]
    others += [label.removeprefix("__label__") for label in others]  # "ad" and "__label__ad"
    negative = _values(args.negative_values) or tuple(dict.fromkeys((*NEGATIVE_VALUES, *others)))
    texts, y, raw, bad = read_labelled(args.labelled, args.label_field, args.text_field, args.format,
                                       positive, negative)
    if not texts:
        raise InputError(f"no labelled documents in {args.labelled}")
    score = scorer.score(texts)
    m = {**binary_metrics(np.array(y), score, args.threshold),
         "per_label": per_label(raw, score, args.threshold),
         "model": str(model.path), "labelled": args.labelled, "unreadable": dict(bad)}
    _print_metrics(f"{model.path.name} on {', '.join(args.labelled)}", m, summary_line)
    if bad:
        print(f"  skipped {sum(bad.values())} unreadable records: {dict(bad)}")
    if args.json:
        Path(args.json).write_text(json.dumps(m, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


def _score(args) -> int:
    from mdfs import storage
    from mdfs.config import validate
    from mdfs.conservation import format_report
    from mdfs.inputs import discover
    from mdfs.pipeline import run
    from mdfs.quality.data import check_text_kind

    _load(args.model)  # fail before any work if the model, its sidecar or its labels are wrong
    model = str(Path(args.model).resolve()) if args.model else None  # workers may run elsewhere
    cfg = validate({
        "input": {"paths": args.input, "text_field": args.text_field, "format": args.format},
        "output": {"path": args.output},
        "engine": {"kind": args.engine, "workers": args.workers, "address": args.ray_address},
        # one stage that scores every document and drops none
        "stages": [{"name": "quality",
                    "with": {"model": model, "score_only": True, "prepare": not args.no_prepare}}],
    }, source="mdfs quality score")
    for file, _, kind in discover(cfg.input)[0]:
        check_text_kind(kind, file)
    summary = run(cfg, force=args.force, progress=False)
    print(format_report(summary.conservation))
    print(f"scored {summary.docs_out} documents ({summary.rejected} unreadable, in rejects/read/) "
          f"in {summary.seconds:.1f}s; column quality__score")
    print(f"  corpus: {storage.join(summary.output, 'data')}/")
    return 0


def _load(path: str | None):
    from mdfs.quality.model import QualityModel
    from mdfs.stages.quality import DEFAULT_MODEL

    return QualityModel.load(path or DEFAULT_MODEL)


def _scorer(path: str | None, prepare: bool):
    """The quality stage itself, set up: it scores a page model's input (title, host, signals) and a
    two-class model's prefix the same way a run does."""
    from mdfs.stages.quality import QualityFilter

    stage = QualityFilter("quality", QualityFilter.Params(model=path, prepare=prepare))
    stage.setup()
    return stage


def _values(text: str | None) -> tuple[str, ...]:
    return tuple(v.strip().lower() for v in text.split(",") if v.strip()) if text else ()


def _print_metrics(title: str, m: dict, summary_line) -> None:
    print(f"{title}: {summary_line(m)}")
    for label, row in m["per_label"].items():
        print(f"  {label:<16} n={row['n']:<6} mean score {row['mean_score']:.3f}  "
              f"scored ≥ {m['threshold']}: {row['share_kept']:.1%}")
