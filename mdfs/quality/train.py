"""Train a fastText quality classifier on labelled documents and measure it on a held-out split.

Every document is prepared as the collection stage would (normalise, Traditional → Simplified) and
tokenised as the quality stage will (the sidecar carries the settings). Exact duplicates (same text
after preparation, ignoring whitespace and punctuation) are kept once, so the same text can never sit
on both sides of the split; a text given two different labels is dropped. Each class is split on its
own (a seeded shuffle), so every class is in the held-out set. The model is trained on the training
split only, and the metrics describe exactly the file that is written.

Memory: only the tokenised prefix of each document is kept, not its full text.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, ValidationError

from mdfs.config import Strict, read_yaml_mapping, validation_message
from mdfs.errors import ConfigError, InputError
from mdfs.quality.data import read_texts
from mdfs.quality.metrics import binary_metrics, per_label
from mdfs.quality.model import PrepareConfig, QualityModel, Sidecar, prepare_function, write_sidecar
from mdfs.quality.tokens import TokenizerConfig, make_tokenizer
from mdfs.textnorm import dedup_key

log = logging.getLogger(__name__)
HQ, LQ = "__label__hq", "__label__lq"
CLASS_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


class FastTextParams(Strict):
    """fastText's own names (see `fasttext.train_supervised`)."""

    lr: float = Field(0.5, gt=0)
    epoch: int = Field(10, ge=1)
    dim: int = Field(32, ge=2)
    wordNgrams: int = Field(2, ge=1)
    minCount: int = Field(2, ge=1)
    bucket: int = Field(200_000, ge=0)
    minn: int = Field(0, ge=0, description="subword character n-grams inside each token (0: off)")
    maxn: int = Field(0, ge=0)
    loss: Literal["softmax", "ova", "hs", "ns"] = "softmax"
    thread: int | None = Field(None, ge=1, description="default: all CPUs; 1 makes a run reproducible")
    seed: int = 1


class SplitConfig(Strict):
    test_frac: float = Field(0.2, gt=0, lt=1)
    seed: int = 20240501


class QuantizeConfig(Strict):
    enabled: bool = False
    cutoff: int = Field(50_000, ge=0, description="keep this many words and n-grams (0: all)")
    qnorm: bool = True
    retrain: bool = True


class TrainConfig(Strict):
    tokenizer: TokenizerConfig = Field(default_factory=lambda: TokenizerConfig(kind="jieba", max_chars=2000))
    prepare: PrepareConfig = Field(default_factory=PrepareConfig)
    fasttext: FastTextParams = Field(default_factory=FastTextParams)
    split: SplitConfig = Field(default_factory=SplitConfig)
    quantize: QuantizeConfig = Field(default_factory=QuantizeConfig)
    threshold: float = Field(0.5, ge=0, le=1, description="for the reported precision, recall and F1")


def load_train_config(path: str | Path | None, quantize: bool = False) -> TrainConfig:
    """Hyper-parameters from YAML (every key optional), validated with key paths in errors."""
    data = read_yaml_mapping(path, "training config") if path else {}
    try:
        cfg = TrainConfig.model_validate(data)
    except ValidationError as e:
        raise ConfigError(f"{path}: invalid training config\n{validation_message(e)}") from None
    if quantize:
        cfg = cfg.model_copy(update={"quantize": cfg.quantize.model_copy(update={"enabled": True})})
    return cfg


def class_label(name: str) -> str:
    """`ad` -> `__label__ad`; names are what fastText accepts in a label and what a user can type."""
    if not CLASS_NAME.match(name) or name in ("hq", "lq"):
        raise ConfigError(f"class name {name!r}: use letters, digits, '_' or '-', other than hq and lq")
    return f"__label__{name}"


@dataclass
class Example:
    label: str
    key: bytes  # dedup key of the prepared text
    line: str   # tokenised prefix, the fastText input


def load_examples(sources: dict[str, list[str]], cfg: TrainConfig, text_field: str = "text",
                  fmt: str = "auto") -> tuple[list[Example], dict]:
    """Read, prepare and tokenise every class; return the examples and what was read and skipped."""
    prepare, tokenize = prepare_function(cfg.prepare), make_tokenizer(cfg.tokenizer)
    examples: list[Example] = []
    report: dict = {"read": {}, "unreadable": {}}
    for label, paths in sources.items():
        texts, bad = read_texts(paths, text_field, fmt)
        if not texts:
            raise InputError(f"no readable documents for {label} in {paths}")
        report["read"][label] = len(texts)
        if bad:
            report["unreadable"][label] = dict(bad)
        for text in texts:
            text = prepare(text)
            examples.append(Example(label, dedup_key(text), tokenize(text)))
    return examples, report


def deduplicate(examples: list[Example]) -> tuple[list[Example], dict]:
    """Keep the first of each text; drop texts that occur under two labels."""
    labels_of: dict[bytes, set[str]] = {}
    for e in examples:
        labels_of.setdefault(e.key, set()).add(e.label)
    seen: set[bytes] = set()
    out, dup, conflict = [], 0, 0
    for e in examples:
        if len(labels_of[e.key]) > 1:
            conflict += 1
        elif e.key in seen:
            dup += 1
        else:
            seen.add(e.key)
            out.append(e)
    return out, {"duplicates_dropped": dup, "conflicting_labels_dropped": conflict}


def split(examples: list[Example], cfg: SplitConfig) -> tuple[list[Example], list[Example]]:
    """Per class, a seeded shuffle sends `test_frac` of its examples (at least one) to the test side."""
    by_label: dict[str, list[Example]] = {}
    for e in examples:
        by_label.setdefault(e.label, []).append(e)
    train, test = [], []
    for label in sorted(by_label):
        group = sorted(by_label[label], key=lambda e: e.key)  # independent of input order
        if len(group) < 2:
            raise InputError(f"class {label} has {len(group)} distinct document(s) after de-duplication; "
                             "at least 2 are needed to hold one out")
        random.Random(f"{cfg.seed}:{label}").shuffle(group)
        n_test = min(len(group) - 1, max(1, round(cfg.test_frac * len(group))))
        test += group[:n_test]
        train += group[n_test:]
    return train, test


def fit(train: list[Example], cfg: TrainConfig, output: Path, positive_label: str = HQ,
        info: dict | None = None) -> QualityModel:
    """Train (and optionally quantise) on `train`, save the model and its sidecar, load them back."""
    import fasttext

    from mdfs.fasttext_check import FastTextBuildError, require_trainable_fasttext

    try:
        require_trainable_fasttext()  # a predict-only build installed over ours would fail obscurely
    except FastTextBuildError as e:
        raise ConfigError(str(e)) from None
    params = cfg.fasttext.model_dump()
    params["thread"] = params["thread"] or os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.txt"
        lines = [f"{e.label} {e.line}" for e in train]
        random.Random(cfg.split.seed).shuffle(lines)  # fastText learns in file order
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        model = fasttext.train_supervised(input=str(path), verbose=0, **params)
        if cfg.quantize.enabled:
            q = cfg.quantize
            model.quantize(input=str(path), qnorm=q.qnorm, retrain=q.retrain, cutoff=q.cutoff,
                           thread=params["thread"], verbose=0)
    output.parent.mkdir(parents=True, exist_ok=True)
    model.save_model(str(output))
    write_sidecar(output, Sidecar(labels=list(model.labels), positive_label=positive_label,
                                  tokenizer=cfg.tokenizer, prepare=cfg.prepare, info=info or {}))
    return QualityModel.load(output)


def evaluate_examples(model: QualityModel, test: list[Example], threshold: float) -> dict:
    """Held-out metrics of P(positive) against "positive label or not", and per true label."""
    score = model.score_lines([e.line for e in test])
    y = np.array([e.label == model.positive_label for e in test])
    return {**binary_metrics(y, score, threshold),
            "per_label": per_label([e.label for e in test], score, threshold)}


def metrics_path(output: str | Path) -> Path:
    return Path(f"{output}.metrics.json")


def run_training(sources: dict[str, list[str]], output: str | Path, cfg: TrainConfig,
                 text_field: str = "text", fmt: str = "auto") -> dict:
    """The whole `mdfs quality train`: read, split, fit, measure; writes the model, its sidecar and
    `<output>.metrics.json`, and returns the metrics."""
    output = Path(output)
    started = time.perf_counter()
    examples, report = load_examples(sources, cfg, text_field, fmt)
    examples, dedup = deduplicate(examples)
    train, test = split(examples, cfg.split)
    t_read = time.perf_counter() - started
    info = {"trained_by": "mdfs quality train", "sources": sources, "train_docs": len(train)}
    model = fit(train, cfg, output, HQ, info)
    t_fit = time.perf_counter() - started - t_read
    metrics = {
        "model": output.name, "labels": model.labels, "positive_label": model.positive_label,
        "held_out": evaluate_examples(model, test, cfg.threshold),
        "docs": {"train": dict(sorted(Counter(e.label for e in train).items())),
                 "test": dict(sorted(Counter(e.label for e in test).items())), **report, **dedup},
        "config": cfg.model_dump(mode="json"),
        "seconds": {"read_prepare_tokenize": round(t_read, 2), "train": round(t_fit, 2)},
    }
    text = json.dumps(metrics, ensure_ascii=False, indent=2) + "\n"
    metrics_path(output).write_text(text, encoding="utf-8")
    return metrics
