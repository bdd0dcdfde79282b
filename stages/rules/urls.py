"""URL and domain rules, for inputs that carry a url: a domain blocklist and URL keyword patterns.

Both are vectorised: the host is extracted with one RE2 pass, parent domains are produced by stripping
one label at a time (a.b.example.com → b.example.com → example.com), and each level is one hash lookup
(`is_in`) against the blocklist.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from mdfs.config import Strict
from mdfs.hosts import hosts
from mdfs.stages.rules.lexicon import LEXICON_DIR

MAX_LEVELS = 6  # labels stripped at most; deeper hosts are checked at their last 6 parents


class UrlRules(Strict):
    """`domain_blocklists`: files, one domain per line (`default` is the bundled stages/lexicons/domains.txt);
    `url_patterns`: RE2 patterns matched case-insensitively against the whole URL."""

    domain_blocklists: list[str] = Field(default_factory=lambda: ["default"])
    url_patterns: list[str] = Field(default_factory=lambda: [
        r"porn|hentai|xvideo|xnxx|(?:^|[^a-z])(?:sex|xxx|jav)(?:[^a-z]|$)",
        r"liuhecai|baijiale|bocai|duchang|(?:^|[^a-z])(?:lhc|ssc)(?:[^a-z]|$)",
    ])


def read_domains(path: Path) -> set[str]:
    out = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        d = line.split("#", 1)[0].strip().lower().rstrip(".")
        if d:
            out.add(d.removeprefix("www."))
    return out


class UrlMatcher:
    def __init__(self, rules: UrlRules, base_dir: Path | None = None):
        blocked: set[str] = set()
        for name in rules.domain_blocklists:
            path = LEXICON_DIR / "domains.txt" if name == "default" else Path(name)
            if not path.is_absolute() and base_dir is not None and name != "default":
                path = base_dir / path
            if not path.exists():
                raise ValueError(f"domain blocklist not found: {path}")
            blocked |= read_domains(path)
        self.blocked = pa.array(sorted(blocked), pa.string())
        self.pattern = "(?i)" + "|".join(f"(?:{p})" for p in rules.url_patterns) if rules.url_patterns \
            else None

    def blocked_domain(self, urls: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
        """True where the URL's host or one of its parent domains is on a blocklist."""
        host = hosts(urls)
        hit = pc.fill_null(pc.is_in(host, value_set=self.blocked), False)
        if not len(self.blocked):
            return hit
        for _ in range(MAX_LEVELS):
            host = pc.if_else(pc.match_substring(host, "."),
                              pc.replace_substring_regex(host, r"^[^.]*\.", "", max_replacements=1),
                              pa.scalar(None, pa.string()))
            hit = pc.or_(hit, pc.fill_null(pc.is_in(host, value_set=self.blocked), False))
        return hit

    def pattern_match(self, urls: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
        if self.pattern is None:
            return pa.array([False] * len(urls), pa.bool_())
        return pc.fill_null(pc.match_substring_regex(urls, self.pattern), False)
