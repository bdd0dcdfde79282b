"""Benchmarks: `python -m tools.bench` runs the whole suite; `python -m tools.bench.<name>` one part."""

import resource
from pathlib import Path


def peak_rss_mb() -> float:
    """This process's peak RSS in MB. Not getrusage's ru_maxrss: Linux carries the parent's peak across fork
    and exec into a child, so a child started by a big parent reports the parent's figure; VmHWM is its
    own."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
