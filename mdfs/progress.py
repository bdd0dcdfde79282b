"""Progress per phase: a live bar on a terminal, plain log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time

log = logging.getLogger("mdfs.progress")


class Progress:
    def __init__(self, label: str, total_items: int, total_bytes: int = 0, live: bool | None = None):
        self.label, self.total, self.total_bytes = label, total_items, total_bytes
        self.done = self.docs = self.bytes = 0
        self.t0 = self.last_log = time.monotonic()
        self.live = sys.stderr.isatty() if live is None else live
        self._bar = None
        if self.live and total_items:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn
            from rich.progress import TimeRemainingColumn

            self._bar = RichProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TextColumn("{task.fields[info]}"), TimeRemainingColumn(),
                                     transient=False)
            self._task = self._bar.add_task(label, total=total_items, info="")
            self._bar.start()

    def advance(self, docs: int = 0, nbytes: int = 0) -> None:
        self.done += 1
        self.docs += docs
        self.bytes += nbytes
        elapsed = max(time.monotonic() - self.t0, 1e-9)
        info = f"{self.docs:,} docs  {self.bytes / 1e6:,.1f} MB  {self.docs / elapsed:,.0f} docs/s"
        if self._bar:
            self._bar.update(self._task, advance=1, info=info)
        elif time.monotonic() - self.last_log > 5 or self.done == self.total:
            eta = (self.total - self.done) * elapsed / self.done if self.done else 0
            log.info("%s: %d/%d  %s  eta %.0fs", self.label, self.done, self.total, info, eta)
            self.last_log = time.monotonic()

    def close(self) -> None:
        if self._bar:
            self._bar.stop()
