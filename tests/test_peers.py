"""The side-by-side machinery of `tools.bench.peers`, without building the real peers' venvs (those take
minutes and the registry): a stand-in runner under this interpreter, a venv marked as ready, an install
that fails. And `tools.bench.shuffle`, the per-document phase sizes behind docs/scale.md."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.conftest import TINY
from tools.bench import peers

RUNNER = '''
import json, subprocess, sys
from pathlib import Path
# the work happens in a grandchild, as Data-Juicer's and datatrove's worker processes do
subprocess.run([sys.executable, "-c", "sum(i * i for i in range(3_000_000))"], check=True)
docs = sum(1 for p in Path(sys.argv[2]).glob("*.jsonl") for _ in open(p, encoding="utf-8"))
print("noise on stdout")
(Path(sys.argv[3]) / "result.json").write_text(json.dumps({"docs_in": docs, "docs_kept": docs - 1}))
'''


def fake_peer(tmp_path: Path, package: str = "fakepeer==1.2.3", runner: str = RUNNER) -> peers.Peer:
    settings, script = tmp_path / "fake.yaml", tmp_path / "peer_fake.py"
    settings.write_text(f"package: {package}\nextra_packages: [extra==1]\n", encoding="utf-8")
    script.write_text(runner, encoding="utf-8")
    return peers.Peer("fake", settings, script)


def test_shipped_peers_pin_their_versions_and_have_runners():
    for peer in peers.PEERS.values():
        assert peer.settings_path.exists() and peer.runner.exists()
        assert peer.version.count(".") >= 1 and "==" in peer.requirements[0][0]
    assert peers.PEERS["datatrove"].version == "0.10.1"
    with pytest.raises(SystemExit, match="unknown peer"):
        peers.parse_peers("datatrove,spark")
    assert peers.parse_peers("none") == []


def test_run_counts_the_cpu_of_the_whole_process_tree(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.jsonl").write_text('{"text": "一"}\n{"text": "二"}\n{"text": "三"}\n', encoding="utf-8")
    r = peers.run_peer(fake_peer(tmp_path), Path(sys.executable), corpus, tmp_path / "work", text_mb=1.0)
    assert r["docs_in"] == 3 and r["docs_kept"] == 2 and r["version"] == "1.2.3"
    assert r["cpu_seconds"] >= 0.1  # the grandchild's loop, invisible to RUSAGE_SELF
    assert r["mb_per_cpu_second"] == pytest.approx(1.0 / r["cpu_seconds"], rel=0.01)
    ratio = peers.ratios({"cpu_seconds": r["cpu_seconds"] / 4, "wall_seconds": r["wall_seconds"] / 2},
                         {"fake": r})
    assert ratio["fake"] == {"cpu": 4.0, "wall": 2.0}


def test_a_failing_run_is_reported_with_its_error(tmp_path):
    peer = fake_peer(tmp_path, runner="import sys\nsys.exit('the recipe has no such operator')\n")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    with pytest.raises(peers.PeerUnavailable, match="no such operator"):
        peers.run_peer(peer, Path(sys.executable), corpus, tmp_path / "work", text_mb=1.0)


def test_a_ready_venv_is_reused_and_a_failed_install_says_why(tmp_path, monkeypatch):
    peer = fake_peer(tmp_path)
    venv = peers.venv_dir(peer, tmp_path / "cache")
    assert venv.name == "fake-1.2.3"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    (venv / peers.READY).write_text(json.dumps(peer.requirements), encoding="utf-8")
    assert peers.ensure_venv(peer, tmp_path / "cache", log=lambda _: None) == venv / "bin" / "python"
    # another pin in the settings: the venv is made again, and pip's refusal is the reason given
    broken = fake_peer(tmp_path, package="fakepeer==1.2.3 ! not a requirement")
    monkeypatch.setattr(peers, "venv_dir", lambda p, cache: venv)
    with pytest.raises(peers.PeerUnavailable, match="pip install .*failed"):
        peers.ensure_venv(broken, tmp_path / "cache", log=lambda _: None)


def test_the_report_has_a_row_per_peer_and_the_reason_for_a_missing_one():
    mdfs_run = {"docs_out": 90, "wall_seconds": 10.0, "cpu_seconds": 9.0, "mb_per_cpu_second": 2.2,
                "mb_per_s_per_core": 2.0}
    failed = "data-juicer: `pip install py-data-juicer==1.6.1` failed (exit 1):\n..."
    results = {"datatrove": {"version": "0.10.1", "docs_kept": 70, "wall_seconds": 100.0,
                             "cpu_seconds": 90.0, "mb_per_cpu_second": 0.22, "mb_per_s_per_core_wall": 0.2},
               "data-juicer": {"error": failed}}
    text = "\n".join(peers.markdown(mdfs_run, results, 20.0, 100))
    assert "| datatrove | 0.10.1 | 70 | 100.0 | 90.0 | 0.22 | 0.2 | 10.0× | 10.0× |" in text
    assert "| data-juicer | – |" in text
    assert "- data-juicer: `pip install py-data-juicer==1.6.1` failed" in text


def test_shuffle_reports_each_global_phase_per_document(corpus, tmp_path, tiny_model):
    import mdfs
    from tools.bench import shuffle

    out = tmp_path / "out"
    mdfs.run(str(TINY), str(corpus), str(out), engine="serial", progress=False, report=False,
             overrides=[f"stages.quality.model={tiny_model}", "output.keep_work=true"])
    m = shuffle.measure(out)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    dedup_in = manifest["stages"]["dedup"]["docs_in"]
    ids = m["folders"]["dedup/ids"]
    assert ids["docs"] == dedup_in and ids["rows"] == dedup_in  # one id row per document entering dedup
    assert m["folders"]["seg0"]["rows"] == dedup_in  # the segment before dedup, rewritten whole
    for name, r in m["folders"].items():
        assert r["bytes"] > 0 and r["bytes_per_doc"] == round(r["bytes"] / r["docs"], 1), name
    assert "| `dedup/ids` |" in shuffle.markdown(m)
