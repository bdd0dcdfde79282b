"""The real engine: an embedded local Ray instance and a real `ray start --head` cluster, through the CLI.
Both must give exactly the serial engine's output."""

import json
import os
import subprocess
import sys

import pytest

import mdfs

from .conftest import TINY, make_docs, read_dir, write_jsonl
from .raycluster import free_port, ray_cluster

pytestmark = pytest.mark.slow


def cli(*args, env=None, timeout=300):
    cmd = [sys.executable, "-m", "mdfs.cli", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def sharded_corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ray") / "in"
    docs = make_docs(400)
    for i in range(4):
        write_jsonl(folder / f"part{i}.jsonl{'.gz' if i % 2 else ''}", docs[i * 100:(i + 1) * 100],
                    compress=i % 2 == 1)
    return folder


@pytest.fixture(scope="module")
def serial_run(sharded_corpus, tiny_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("serial") / "out"
    mdfs.run(str(TINY), str(sharded_corpus), str(out), engine="serial", progress=False,
             overrides=[f"stages.quality.model={tiny_model}", "input.shard_size_mb=0.01"])
    return out


def args_for(corpus, out, model):
    return ["run", str(TINY), "-i", str(corpus), "-o", str(out), "--set", f"stages.quality.model={model}",
            "--set", "input.shard_size_mb=0.01", "--no-progress"]


def test_local_ray_equals_serial_and_loads_models_once_per_actor(sharded_corpus, tiny_model, serial_run,
                                                                 tmp_path):
    out = tmp_path / "out"
    text = cli(*args_for(sharded_corpus, out, tiny_model), "--workers", "2")
    assert "conservation OK: 400 in" in text
    assert "Token authentication is enabled" not in text  # Ray's default (token auth), without its banner
    for sub in ("data", "rejects"):
        assert read_dir(out / sub) == read_dir(serial_run / sub)
    stats = json.loads((out / "manifest.json").read_text())["stages"]
    shards = len(list((out / "data").iterdir()))
    assert shards >= 4
    # quality's model was loaded once per actor (2), not once per shard or batch
    assert stats["quality"]["counters"]["worker_setups"] <= 2 < shards


def test_real_ray_cluster_with_address(sharded_corpus, tiny_model, serial_run, tmp_path):
    with ray_cluster(nodes=1) as (address, env):
        out = tmp_path / "out"
        text = cli(*args_for(sharded_corpus, out, tiny_model), "--ray-address", address, env=env)
        assert f"cluster of 2 CPUs ({address})" in text  # it joined this cluster, not an embedded one
        for sub in ("data", "rejects"):
            assert read_dir(out / sub) == read_dir(serial_run / sub)


def test_unreachable_cluster_is_a_clear_error(tmp_path, sharded_corpus):
    proc = subprocess.run([sys.executable, "-m", "mdfs.cli", "run", str(TINY), "-i", str(sharded_corpus),
                           "-o", str(tmp_path / "o"), "--ray-address", f"127.0.0.1:{free_port()}"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "cannot join the Ray cluster" in proc.stderr
    assert "Traceback" not in proc.stderr
