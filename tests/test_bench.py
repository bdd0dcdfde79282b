"""The benchmark command end to end on a tiny corpus: it runs, conserves documents and reports every
figure."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT, shared


def test_bench_command_end_to_end(tmp_path):
    shared("wiki-zh")
    out, md = tmp_path / "bench.json", tmp_path / "bench.md"
    proc = subprocess.run([sys.executable, "-m", "tools.bench", "--docs", "300", "--components", "none",
                           "--peers", "none", "--out", str(tmp_path / "work"), "--json", str(out),
                           "--md", str(md)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    r = json.loads(out.read_text(encoding="utf-8"))
    assert {"command", "machine", "corpus", "pipeline"} <= set(r)
    c, p = r["corpus"], r["pipeline"]
    assert c["docs"] == 300 and c["junk"] == 45 and c["injected_copies"] > 0
    assert p["conservation_ok"] is True
    assert p["docs_in"] == 300 and p["docs_in"] == p["docs_out"] + p["rejected"]
    assert 0 < p["docs_out"] < 300  # junk and duplicates are removed, clean text is kept
    for key in ("wall_seconds", "cpu_seconds", "peak_rss_mb", "output_disk_mb", "mb_per_s_per_core",
                "mb_per_cpu_second", "text_mb"):
        assert p[key] > 0, key
    assert list(p["stages"]) == ["read", "collection", "coarse", "quality", "boilerplate", "dedup", "fine"]
    for name in ("collection", "coarse", "quality", "dedup", "fine"):
        assert p["stages"][name]["seconds"] > 0 and p["stages"][name]["mb_per_s_per_core"] > 0, name
    assert "| dedup |" in md.read_text(encoding="utf-8")
    assert not (tmp_path / "work" / "corpus-300").exists()  # cleaned up without --keep
