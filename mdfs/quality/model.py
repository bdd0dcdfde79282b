"""A quality model is two files: the fastText model and a JSON sidecar next to it (`<model>.json`).

The sidecar records how the model's input was made (tokenizer, prefix length, the text preparation
that the collection stage applies before the quality stage), the labels, and the model file's sha256.
Loading checks all of it, so a model can never be scored with a tokenizer it was not trained with and
a sidecar can never describe another model. A model without a sidecar (trained outside mdfs) is
assumed to use the `chars` tokenizer on a 2,000-character prefix, with a warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, ValidationError

from mdfs.config import Strict, validation_message
from mdfs.errors import ConfigError
from mdfs.quality.tokens import TokenizerConfig, make_tokenizer

log = logging.getLogger(__name__)
SIDECAR_VERSION = 1
DEFAULT_POSITIVE = "__label__hq"


class PrepareConfig(Strict):
    """What the collection stage does to text before the quality stage sees it (its defaults)."""

    normalize: bool = True
    opencc: Literal["t2s", "tw2s", "hk2s", "none"] = "t2s"


class Sidecar(Strict):
    mdfs_quality_model: int = SIDECAR_VERSION
    model_sha256: str | None = Field(None, description="sha256 of the model file this sidecar describes")
    labels: list[str]
    positive_label: str = DEFAULT_POSITIVE
    tokenizer: TokenizerConfig = Field(default_factory=TokenizerConfig)
    prepare: PrepareConfig = Field(default_factory=PrepareConfig)
    info: dict[str, Any] = Field(default_factory=dict, description="free-form: how, on what it was trained")


def sidecar_path(model_path: str | Path) -> Path:
    return Path(f"{model_path}.json")


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def write_sidecar(model_path: str | Path, sidecar: Sidecar) -> Path:
    """Write `<model>.json`, stamping it with the model file's sha256."""
    sidecar = sidecar.model_copy(update={"model_sha256": file_sha256(model_path)})
    path = sidecar_path(model_path)
    path.write_text(json.dumps(sidecar.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n",
                    encoding="utf-8")
    return path


def read_sidecar(model_path: str | Path) -> Sidecar | None:
    path = sidecar_path(model_path)
    if not path.exists():
        return None
    try:
        return Sidecar.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except json.JSONDecodeError as e:
        raise ConfigError(f"quality model sidecar {path}: not valid JSON: {e}") from None
    except ValidationError as e:
        raise ConfigError(f"quality model sidecar {path}: invalid\n{validation_message(e)}") from None


class QualityModel:
    """A loaded, checked model that scores texts: P(positive label), tokenised as in training."""

    def __init__(self, path: Path, model, sidecar: Sidecar, positive_label: str):
        self.path, self.model, self.sidecar, self.positive_label = path, model, sidecar, positive_label
        self.tokenize = make_tokenizer(sidecar.tokenizer)
        self._prepare = None

    @classmethod
    def load(cls, path: str | Path, positive_label: str | None = None,
             max_chars: int | None = None) -> QualityModel:
        """Load the model and its sidecar and check that they agree. `max_chars` overrides the trained
        prefix length (a speed trade-off; a warning says so); the tokenizer kind cannot be overridden."""
        import fasttext

        path = Path(path)
        if not path.exists():
            raise ConfigError(f"quality model not found: {path}")
        sidecar = read_sidecar(path)
        try:
            model = fasttext.load_model(str(path))
        except ValueError as e:
            raise ConfigError(f"quality model {path}: not a fastText model: {e}") from None
        labels = list(model.labels)
        if sidecar is None:
            log.warning("quality model %s has no sidecar %s: assuming the chars tokenizer on a "
                        "2,000-character prefix; models trained with `mdfs quality train` carry one",
                        path, sidecar_path(path).name)
            sidecar = Sidecar(labels=labels)
        else:
            if sidecar.model_sha256 and sidecar.model_sha256 != file_sha256(path):
                raise ConfigError(f"quality model sidecar {sidecar_path(path)} describes a different model "
                                  f"(sha256 mismatch with {path}): keep the model and its sidecar together, "
                                  "or retrain")
            if sorted(sidecar.labels) != sorted(labels):
                raise ConfigError(f"quality model sidecar {sidecar_path(path)} lists labels "
                                  f"{sidecar.labels}, but the model has {labels}")
        positive = positive_label or sidecar.positive_label
        if positive not in labels:
            raise ConfigError(f"quality model {path} has no label {positive!r} (labels: {labels}); "
                              "set positive_label to the high-quality label the model was trained with")
        if max_chars is not None and max_chars != sidecar.tokenizer.max_chars:
            log.warning("quality model %s was trained on %d-character prefixes; scoring %d characters",
                        path, sidecar.tokenizer.max_chars, max_chars)
            sidecar = sidecar.model_copy(update={"tokenizer": sidecar.tokenizer.model_copy(
                update={"max_chars": max_chars})})
        return cls(path, model, sidecar, positive)

    @property
    def labels(self) -> list[str]:
        return list(self.model.labels)

    def prepare(self, texts: list[str]) -> list[str]:
        """Normalise and convert like the collection stage did before training (see the sidecar)."""
        if self._prepare is None:
            self._prepare = prepare_function(self.sidecar.prepare)
        return [self._prepare(t) for t in texts]

    def lines(self, texts: list[str], prepare: bool = False) -> list[str]:
        return [self.tokenize(t) for t in (self.prepare(texts) if prepare else texts)]

    def score_lines(self, lines: list[str]) -> np.ndarray:
        """P(positive label) for already tokenised lines."""
        return self.probabilities(lines)[self.positive_label]

    def probabilities(self, lines: list[str]) -> dict[str, np.ndarray]:
        """P(label) for every label, for already tokenised lines."""
        out = {label: np.zeros(len(lines), dtype=np.float32) for label in self.labels}
        if not lines:
            return out
        labels, probs = self.model.predict(lines, k=-1)
        for i, (ls, ps) in enumerate(zip(labels, probs)):
            for label, p in zip(ls, ps):
                out[label][i] = p
        for p in out.values():  # fastText's softmax can overshoot by 1e-5
            np.clip(p, 0.0, 1.0, out=p)
        return out

    def score(self, texts: list[str], prepare: bool = False) -> np.ndarray:
        """P(positive label) for each text; `prepare` first applies the collection stage's treatment."""
        return self.score_lines(self.lines(texts, prepare))


def prepare_function(cfg: PrepareConfig):
    """text -> text as the collection stage would leave it (normalize, then OpenCC)."""
    from mdfs.textnorm import normalize

    converter = None
    if cfg.opencc != "none":
        import opencc

        converter = opencc.OpenCC(cfg.opencc)

    def prepare(text: str) -> str:
        if cfg.normalize:
            text = normalize(text)
        if converter is not None and not text.isascii():
            text = converter.convert(text)
        return text

    return prepare
