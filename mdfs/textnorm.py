"""Chinese text normalisation shared by stages: one definition, so hashes and scores agree."""

from __future__ import annotations

import hashlib
import re
import unicodedata

# NFKC would turn these full-width Chinese punctuation marks into ASCII; Chinese text keeps them.
_KEEP_FULLWIDTH = "，。！？：；（）「」『』、《》【】〔〕—…"
_PROTECT = {ord(c): 0xF0000 + i for i, c in enumerate(_KEEP_FULLWIDTH)}  # private-use placeholders
_RESTORE = {v: k for k, v in _PROTECT.items()}
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"[^\S\n]+")  # runs of whitespace other than newline
_TRAILING = re.compile(r" *\n *")
_BLANK_LINES = re.compile(r"\n{3,}")
_HASH_STRIP = re.compile(r"[\s\W_]+", re.UNICODE)


def normalize(text: str) -> str:
    """NFKC (full-width ASCII → half-width) keeping Chinese punctuation; drop control and zero-width
    characters; unify whitespace (spaces collapsed, at most one blank line, stripped ends)."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text.translate(_PROTECT)).translate(_RESTORE)
        text = text.translate(_ZERO_WIDTH)
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _SPACES.sub(" ", text)
    text = _TRAILING.sub("\n", text)
    return _BLANK_LINES.sub("\n\n", text).strip()


def dedup_key(text: str) -> bytes:
    """Digest of the text with whitespace and punctuation removed: reformatted copies collide."""
    return hashlib.blake2b(_HASH_STRIP.sub("", text).encode("utf-8"), digest_size=16).digest()


def char_tokens(text: str, max_chars: int) -> str:
    """Space-separated characters of a bounded prefix: fastText input for Chinese without a segmenter
    (with wordNgrams=2 the model sees character bigrams). Latin words stay whole."""
    prefix = text[:max_chars]
    out = re.sub(r"([\u3000-\u9fff\uff00-\uffef])", r" \1 ", prefix)
    return " ".join(out.split())
