"""Object storage: input and output as s3:// URIs against a real S3-compatible server (moto's server
mode) started by the test, in the serial engine and with Ray workers reading and writing it."""

import json
import os
import time

import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pytest

import mdfs
from mdfs.errors import OutputError

from .conftest import TINY, make_docs, read_dir, write_jsonl

pytestmark = pytest.mark.slow


def upload(local_dir, prefix):
    import boto3

    client = boto3.client("s3")
    for path in local_dir.rglob("*"):
        if path.is_file():
            client.upload_file(str(path), "corpus", f"{prefix}/{path.relative_to(local_dir)}")


def s3_rows(uri):
    fs = pafs.S3FileSystem(endpoint_override=os.environ["AWS_ENDPOINT_URL"].split("://")[1], scheme="http")
    table = ds.dataset(uri.split("://")[1], filesystem=fs, format="parquet").to_table()
    return sorted(table.to_pylist(), key=lambda r: (r["id"], r.get("stage") or ""))


@pytest.mark.parametrize("engine", ["serial", "ray"])
def test_s3_input_and_output_match_local(s3_server, tmp_path, tiny_model, engine):
    local_in = tmp_path / "in"
    docs = make_docs(120)
    write_jsonl(local_in / "a.jsonl", docs[:60])
    write_jsonl(local_in / "b.jsonl.gz", docs[60:], compress=True)
    upload(local_in, f"raw-{engine}")
    overrides = [f"stages.quality.model={tiny_model}", "input.shard_size_mb=0.005"]
    local = mdfs.run(str(TINY), str(local_in), str(tmp_path / "local"), engine="serial", progress=False,
                     overrides=overrides)
    out = f"s3://corpus/runs/{engine}"
    remote = mdfs.run(str(TINY), f"s3://corpus/raw-{engine}", out, engine=engine, workers=2, progress=False,
                      overrides=overrides)
    assert remote.docs_in == local.docs_in == 120 and remote.docs_out == local.docs_out
    assert s3_rows(f"{out}/data") == read_dir(tmp_path / "local" / "data")
    assert s3_rows(f"{out}/rejects") == read_dir(tmp_path / "local" / "rejects")
    again = mdfs.run(str(TINY), f"s3://corpus/raw-{engine}", out, engine="serial", progress=False,
                     overrides=overrides)
    assert again.shards_run == 0  # resume works on object storage too


def test_s3_run_lock_refuses_a_second_run_and_is_released(s3_server, tmp_path, tiny_model):
    import boto3

    local_in = tmp_path / "in"
    write_jsonl(local_in / "a.jsonl", make_docs(20))
    overrides = [f"stages.quality.model={tiny_model}"]
    out = "s3://corpus/runs/locked"
    mdfs.run(str(TINY), str(local_in), out, engine="serial", progress=False, report=False,
             overrides=overrides)
    client = boto3.client("s3")
    assert "Contents" not in client.list_objects_v2(Bucket="corpus", Prefix="runs/locked/_lock")  # released
    holder = {"token": "x", "host": "other-node", "pid": 1, "started": time.time(), "heartbeat": time.time()}
    client.put_object(Bucket="corpus", Key="runs/locked/_lock.json", Body=json.dumps(holder).encode())
    with pytest.raises(OutputError, match="in use by another mdfs run .* on other-node"):
        mdfs.run(str(TINY), str(local_in), out, engine="serial", progress=False, report=False,
                 overrides=overrides)


def test_storage_faults_are_one_clear_line(s3_server, tmp_path):
    """An endpoint that is down, a bucket that does not exist: exit 2 and one line saying so."""
    import subprocess
    import sys

    from .raycluster import free_port

    def cli(*args, **env):
        return subprocess.run([sys.executable, "-m", "mdfs.cli", "run", *args, "--engine", "serial"],
                              capture_output=True, text=True, timeout=120, env={**os.environ, **env},
                              check=False)

    down = cli("-i", "s3://corpus/raw", "-o", str(tmp_path / "o"), AWS_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}")
    assert down.returncode == 2 and "cannot reach the object store at http://127.0.0.1:" in down.stderr
    missing = cli("-i", "s3://no-such-bucket-here/raw", "-o", str(tmp_path / "o2"))
    assert missing.returncode == 2 and "mdfs: error:" in missing.stderr
    for proc in (down, missing):
        assert "Traceback" not in proc.stderr


def test_refused_credentials_and_missing_buckets_are_named():
    """What the object store says (as pyarrow reports it) becomes a sentence a user can act on."""
    from mdfs.storage import explain

    denied = OSError("When reading information for key 'raw' in bucket 'corpus': AWS Error "
                     "ACCESS_DENIED during HeadObject operation: No response body.")
    assert explain(denied).startswith("the object store refused the credentials: check AWS_ACCESS_KEY_ID")
    missing = OSError("Bucket 'nope' not found: AWS Error NO_SUCH_BUCKET during HeadBucket operation")
    assert explain(missing).startswith("the bucket does not exist")
    assert explain(OSError("something else")) == "something else"


def test_requests_per_shard_are_bounded_and_no_object_is_probed_twice_per_read(s3_server, tmp_path,
                                                                                tiny_model):
    """What a run asks of the object store, counted on the server: a budget per shard (the dedup shuffle
    makes shards × buckets small files, inherent to it), and no Parquet object HEADed more often than it
    is fetched (pq.read_table on a path costs three HEADs per read; done markers list folders instead)."""
    write_jsonl(tmp_path / "in" / "a.jsonl", make_docs(160))
    upload(tmp_path / "in", "budget-raw")
    mark = s3_server.mark()
    summary = mdfs.run(str(TINY), "s3://corpus/budget-raw", "s3://corpus/budget-run", engine="serial",
                       progress=False, report=False,
                       overrides=[f"stages.quality.model={tiny_model}", "input.shard_size_mb=0.005"])
    time.sleep(0.5)  # the server logs a request after answering it
    requests = s3_server.requests(mark)
    shards = summary.shards_run // 2  # two segments (before and after dedup)
    assert shards >= 8 and len(requests) <= BUDGET_PER_SHARD * shards, (len(requests), s3_server.count(mark))
    parquet = [(m, p) for m, p in requests if p.endswith(".parquet")]
    for path in {p for m, p in parquet if m == "GET"}:
        heads, gets = parquet.count(("HEAD", path)), parquet.count(("GET", path))
        assert heads <= gets, f"{path}: {heads} HEAD for {gets} GET"


BUDGET_PER_SHARD = 62  # measured: 58 (11 shards of one file, 4 dedup buckets; 75 before done markers listed
#                        folders, 95+ before Parquet objects were read with one HEAD)


def test_reading_a_missing_column_fails_alike_on_disk_and_on_the_object_store(s3_server, tmp_path):
    """The local fast path (ParquetFile) must not drop a missing column silently where S3 raises."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mdfs import storage

    table = pa.table({"shard": [1, 2], "row": [3, 4]})
    pq.write_table(table, tmp_path / "x.parquet")
    remote = "s3://corpus/missing-column/x.parquet"
    storage.write_parquet(remote, table)
    for path in (str(tmp_path / "x.parquet"), remote):
        assert storage.read_parquet(path, ["row"]).column_names == ["row"]
        with pytest.raises(pa.ArrowInvalid, match="reason"):
            storage.read_parquet(path, ["shard", "reason"])
