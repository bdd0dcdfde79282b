"""Labelled documents for training and evaluation, read with mdfs's own readers.

Everything `mdfs run` reads works here: files, folders, globs, JSONL (plain, gzip, zstd), Parquet and
one-document `.txt` files. Records the readers quarantine (malformed JSON, empty text, ...) are counted
by reason and reported, not fed to the model.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator

from mdfs.config import InputConfig
from mdfs.errors import InputError
from mdfs.inputs import plan_shards
from mdfs.readers import PieceReader

log = logging.getLogger(__name__)

POSITIVE_VALUES = ("hq", "1", "true", "pos", "positive", "__label__hq")
NEGATIVE_VALUES = ("lq", "0", "false", "neg", "negative", "__label__lq")
TEXT_KINDS = ("jsonl", "parquet", "txt")


def _read(cfg: InputConfig, bad: Counter) -> Iterator[tuple[str, str]]:
    """(id, text) of every readable record; quarantined records are counted in `bad` by reason."""
    reader = PieceReader(cfg)
    shards, _ = plan_shards(cfg)
    for shard in shards:
        for piece in shard.pieces:
            check_text_kind(piece.kind, piece.path)
            for batch in reader.read(piece):
                bad.update(b["reason"] for b in batch.bad)
                yield from zip(batch.docs["id"], batch.docs["text"])


def check_text_kind(kind: str, path: str) -> None:
    """Only text inputs carry text: web pages (WARC, HTML) are decoded and extracted by the collection
    stage, so they go through `mdfs run` first."""
    if kind not in TEXT_KINDS:
        raise InputError(f"{path}: {kind} input holds web pages, not text; run `mdfs run` on it first and "
                         "use its corpus (data/) here")


def read_texts(paths: list[str], text_field: str = "text", fmt: str = "auto") -> tuple[list[str], Counter]:
    """The texts under `paths` and the count of unreadable records by reason."""
    bad: Counter = Counter()
    cfg = InputConfig(paths=paths, text_field=text_field, id_field=None, url_field=None, format=fmt)
    texts = [text for _, text in _read(cfg, bad)]
    if bad:
        log.warning("%s: skipped %d unreadable records %s", paths, sum(bad.values()), dict(bad))
    return texts, bad


def label_value(value: str, positive: tuple[str, ...], negative: tuple[str, ...]) -> bool | None:
    """True for a positive label value, False for a negative one, None if unrecognised."""
    v = value.strip().lower()
    if v in ("1.0", "0.0"):
        v = v[0]
    return True if v in positive else False if v in negative else None


def read_labelled(paths: list[str], label_field: str = "label", text_field: str = "text", fmt: str = "auto",
                  positive: tuple[str, ...] = POSITIVE_VALUES,
                  negative: tuple[str, ...] = NEGATIVE_VALUES,
                  ) -> tuple[list[str], list[bool], list[str], Counter]:
    """Texts, their labels (True = high quality), the raw label values, and unreadable-record counts.

    The label travels through the readers' id field: the readers already handle every format,
    compression and bad record, and turn any JSON or Parquet scalar into a string id. A record without
    the field gets a positional id (`file@offset`, `file#row`), which is not a label value, so it is
    reported with the unrecognised ones.
    """
    bad: Counter = Counter()
    cfg = InputConfig(paths=paths, text_field=text_field, id_field=label_field, url_field=None, format=fmt)
    texts, labels, raw, unknown = [], [], [], []
    for value, text in _read(cfg, bad):
        label = label_value(value, positive, negative)
        if label is None:
            unknown.append(value)
            continue
        texts.append(text)
        labels.append(label)
        raw.append(value)
    if unknown:
        raise InputError(f"{paths}: {len(unknown)} records have no recognised label in field {label_field!r} "
                         f"(e.g. {sorted(set(unknown))[:3]}); high quality: {', '.join(positive)}; "
                         f"low quality: {', '.join(negative)}")
    if bad:
        log.warning("%s: skipped %d unreadable records %s", paths, sum(bad.values()), dict(bad))
    return texts, labels, raw, bad
