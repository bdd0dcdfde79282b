"""A multi-node run on this machine, as a data team runs one: a head and a second node started with
`ray start` (token authentication on, as Ray 2.60 sets it up), input and output on an S3-compatible
server, object-store credentials only in the driver's environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pyarrow.fs as pafs
import pytest

from .conftest import TINY, make_docs, read_dir, write_jsonl
from .raycluster import ray_cluster
from .test_s3 import s3_rows, upload

pytestmark = pytest.mark.slow
AWS = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")


def mdfs_cli(*args, env):
    return subprocess.run([sys.executable, "-m", "mdfs.cli", *args], capture_output=True, text=True,
                          timeout=600, env=env, check=False)


def test_two_node_cluster_with_s3_storage(s3_server, tmp_path, tiny_model):
    docs = make_docs(200)
    for i, d in enumerate(docs):
        d.update({"title": f"标题{i}", "license": "cc-by-4.0", "lang_tags": ["zh", "zh-Hans"],
                  "meta": {"crawl": "2026-11", "rank": i}})
    write_jsonl(tmp_path / "in" / "a.jsonl", docs[:100])
    write_jsonl(tmp_path / "in" / "b.jsonl.gz", docs[100:], compress=True)
    upload(tmp_path / "in", "cluster-raw")
    sets = ["--set", f"stages.quality.model={tiny_model}", "--set", "input.shard_size_mb=0.01"]
    local = mdfs_cli("run", str(TINY), "-i", str(tmp_path / "in"), "-o", str(tmp_path / "local"), "--engine",
                     "serial", "--no-progress", *sets, env=os.environ)
    assert local.returncode == 0, local.stderr[-2000:]
    node_env = {k: v for k, v in os.environ.items() if k not in AWS}  # the nodes know no credentials
    with ray_cluster(nodes=2, cpus=1, env=node_env) as cluster:
        address, ray_env = cluster
        driver_env = {**os.environ, "RAY_AUTH_MODE": ray_env["RAY_AUTH_MODE"]}
        refused = mdfs_cli("run", str(TINY), "-i", "s3://corpus/cluster-raw", "-o", str(tmp_path / "out"),
                           "--ray-address", address, "--no-progress", *sets, env=driver_env)
        assert refused.returncode == 2 and "the Ray cluster has 2 nodes" in refused.stderr
        # refused before any work
        assert "Traceback" not in refused.stderr and not (tmp_path / "out").exists()
        out = "s3://corpus/cluster-run"
        ran = mdfs_cli("run", str(TINY), "-i", "s3://corpus/cluster-raw", "-o", out, "--ray-address", address,
                       "--workers", "2", "--no-progress", *sets, env=driver_env)
        assert ran.returncode == 0, ran.stderr[-3000:]
        # one worker actor per node (1 CPU each), and the engine hands every idle actor a task at the
        # start: with more shards than workers, both nodes ran shards
        assert cluster.nodes_that_ran("_RayWorker") == [0, 1]
    rows = s3_rows(f"{out}/data")
    assert rows == read_dir(tmp_path / "local" / "data")
    assert rows and all(r["license"] == "cc-by-4.0" and r["lang_tags"] == ["zh", "zh-Hans"]
                        and r["meta"]["rank"] == int(r["id"][4:]) and r["title"] for r in rows)  # every field
    assert s3_rows(f"{out}/rejects") == read_dir(tmp_path / "local" / "rejects")
    fs = pafs.S3FileSystem(endpoint_override=os.environ["AWS_ENDPOINT_URL"].split("://")[1], scheme="http")
    with fs.open_input_stream("corpus/cluster-run/manifest.json") as f:
        manifest = f.read().decode()
    assert os.environ["AWS_SECRET_ACCESS_KEY"] not in manifest  # credentials never enter the manifest
    assert json.loads(manifest)["conservation"]["ok"]


def test_secrets_in_runtime_env_are_masked_in_the_manifest(corpus, tmp_path, tiny_model):
    import mdfs

    secret = "do-not-write-me-anywhere"
    env = f"{{env_vars: {{MY_API_TOKEN: {secret}, AWS_SECRET_ACCESS_KEY: {secret}, LOG_LEVEL: debug}}}}"
    mdfs.run(str(TINY), str(corpus), str(tmp_path / "out"), engine="serial", progress=False, report=False,
             overrides=[f"stages.quality.model={tiny_model}", f"engine.runtime_env={env}"])
    manifest = (tmp_path / "out" / "manifest.json").read_text()
    env_vars = json.loads(manifest)["config"]["engine"]["runtime_env"]["env_vars"]
    assert secret not in manifest and env_vars == {"MY_API_TOKEN": "***", "AWS_SECRET_ACCESS_KEY": "***",
                                                   "LOG_LEVEL": "debug"}
