"""Faults: a worker killed mid-stage, the driver killed mid-run, a full disk."""

import os
import signal
import subprocess
import sys
import time

import pytest

import mdfs
from mdfs.errors import OutputError

from .conftest import ROOT, TINY, make_docs, read_dir, write_jsonl

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def many_shards(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faults") / "in"
    write_jsonl(folder / "docs.jsonl", make_docs(300))
    return folder


def overrides(model, *extra):
    return [f"stages.quality.model={model}", "input.shard_size_mb=0.01", *extra]


def test_worker_killed_mid_stage_run_completes_identically(many_shards, tiny_model, tmp_path, monkeypatch):
    hook = "stages.coarse.hooks={before: ['tests.plugins:die_once_on_shard']}"
    ref = mdfs.run(str(TINY), str(many_shards), str(tmp_path / "ref"), engine="serial", progress=False,
                   overrides=overrides(tiny_model, hook))
    monkeypatch.setenv("MDFS_TEST_DIE_SHARD", "part-00003")
    monkeypatch.setenv("MDFS_TEST_DIE_FLAG", str(tmp_path / "died"))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # Ray workers import tests.plugins
    s = mdfs.run(str(TINY), str(many_shards), str(tmp_path / "out"), engine="ray", workers=2, progress=False,
                 overrides=overrides(tiny_model, hook))
    assert (tmp_path / "died").exists(), "the worker was not killed"
    assert s.docs_in == ref.docs_in and s.docs_out == ref.docs_out
    for sub in ("data", "rejects"):
        assert read_dir(tmp_path / "out" / sub) == read_dir(tmp_path / "ref" / sub)


def test_driver_killed_mid_run_resumes_identically(many_shards, tiny_model, tmp_path):
    hook = "stages.coarse.hooks={before: ['tests.plugins:slow']}"
    args = [sys.executable, "-m", "mdfs.cli", "run", str(TINY), "-i", str(many_shards), "-o",
            str(tmp_path / "out"),
            "--engine", "serial",
            "--no-progress"] + [a for o in overrides(tiny_model, hook) for a in ("--set", o)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MDFS_TEST_SLOW": "0.3"}
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    marker = tmp_path / "out" / "stats" / "shards" / "seg0-part-00002.json"
    deadline = time.time() + 120
    while not marker.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert marker.exists() and not (tmp_path / "out" / "manifest.json").exists()
    env["MDFS_TEST_SLOW"] = "0"
    resumed = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "conservation OK: 300 in" in resumed.stdout and "resumed" in resumed.stdout
    mdfs.run(str(TINY), str(many_shards), str(tmp_path / "ref"), engine="serial", progress=False,
             overrides=overrides(tiny_model, hook))
    for sub in ("data", "rejects"):
        assert read_dir(tmp_path / "out" / sub) == read_dir(tmp_path / "ref" / sub)


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "tiny_disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
                          capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], capture_output=True)


def test_full_disk_is_a_clear_error_and_nothing_partial_counts_as_done(small_disk, tiny_model, tmp_path):
    folder = tmp_path / "in"
    write_jsonl(folder / "docs.jsonl", make_docs(3000))
    out = small_disk / "out"
    with pytest.raises(OutputError, match="disk full"):
        mdfs.run(str(TINY), str(folder), str(out), engine="serial", progress=False,
                 overrides=overrides(tiny_model, "output.compression=none"))
    leftovers = [p for p in out.rglob("*") if ".tmp-" in p.name]
    assert not leftovers
    import pyarrow.parquet as pq

    for marker in (out / "stats" / "shards").glob("*.json"):
        import json

        for f in json.loads(marker.read_text())["files"]:
            assert pq.read_metadata(out / f["path"]).num_rows == f["rows"]  # everything marked done is whole
