"""How a document becomes one line of fastText input.

Chinese has no spaces, so fastText needs tokens made for it. Two tokenizers, both on a bounded prefix:

- `chars`: the characters of the prefix (Latin words and numbers stay whole); with `wordNgrams=2` the
  model also sees character bigrams. What the bundled model uses.
- `jieba`: jieba words of the prefix, optionally followed by the prefix's character n-grams of lengths
  1..`char_ngrams`.

The settings travel with the model in its sidecar (`mdfs.quality.model`), so training and scoring
always tokenise the same way. docs/quality.md has the measured speed of each.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import Field, model_validator

from mdfs.config import Strict
from mdfs.textnorm import CHAR_TOKEN

# The `chars` tokens are mdfs.textnorm's (the bundled model was trained with them).
_CHAR_TOKEN = CHAR_TOKEN


class TokenizerConfig(Strict):
    kind: Literal["chars", "jieba"] = Field("chars", description="chars or jieba")
    max_chars: int = Field(2000, ge=1, description="prefix of each document the model sees")
    char_ngrams: int = Field(0, ge=0, le=3, description="jieba only: add character n-grams of lengths 1..n")
    hmm: bool = Field(False, description="jieba only: HMM discovery of words not in the dictionary")

    @model_validator(mode="after")
    def _jieba_options(self) -> TokenizerConfig:
        if self.kind == "chars" and (self.char_ngrams or self.hmm):
            raise ValueError("char_ngrams and hmm apply to the jieba tokenizer; `chars` already sees "
                             "characters (and their bigrams with wordNgrams=2)")
        return self


def char_units(text: str, max_chars: int) -> list[str]:
    """The `chars` tokens of `text[:max_chars]`."""
    return _CHAR_TOKEN.findall(text, 0, max_chars)


def make_tokenizer(cfg: TokenizerConfig) -> Callable[[str], str]:
    """A function text -> one space-separated line of tokens (no newlines), for fastText."""
    if cfg.kind == "chars":
        n = cfg.max_chars
        return lambda text: " ".join(_CHAR_TOKEN.findall(text, 0, n))
    return _JiebaTokenizer(cfg)


class _JiebaTokenizer:
    """jieba words of a bounded prefix, plus optional character n-grams of the same prefix.

    Segmentation is rjieba's (jieba-rs): jieba's dictionary and algorithm in Rust, about 17× faster
    than the Python package on one core. Without HMM its words are those of jieba itself (tests compare
    them on real text); with HMM they differ a little, which does not matter as long as training and
    scoring use the same code, which the sidecar guarantees. A private instance: words another stage
    adds to a shared dictionary must not change what the model sees.
    """

    def __init__(self, cfg: TokenizerConfig):
        import rjieba

        self.cfg = cfg
        self.jieba = rjieba.Jieba()

    def __call__(self, text: str) -> str:
        prefix = text[: self.cfg.max_chars]
        words = " ".join(self.jieba.cut(prefix, self.cfg.hmm)).split()  # drops whitespace tokens
        if self.cfg.char_ngrams:
            units = char_units(prefix, len(prefix))
            for n in range(1, self.cfg.char_ngrams + 1):
                words += ["".join(units[i:i + n]) for i in range(len(units) - n + 1)]
        return " ".join(words)
