"""Nothing lost, nothing stale (#14): the run lock, path safety, moved runs, damaged and temporary parts,
one huge line, a worker that keeps dying."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time

import pyarrow.dataset as pads
import pytest

import mdfs
from mdfs.config import InputConfig
from mdfs.errors import EngineError, InputError, OutputError
from mdfs.inputs import plan_shards

from .conftest import ROOT, TINY, make_docs, read_dir, write_jsonl

SERIAL = {"engine": "serial", "progress": False, "report": False}


def run_tiny(inputs, out, model, *sets, **kw):
    overrides = [f"stages.quality.model={model}", *sets]
    return mdfs.run(str(TINY), inputs, str(out), overrides=overrides, **{**SERIAL, **kw})


def write_lock(out, **fields):
    out.mkdir(parents=True, exist_ok=True)
    body = {"token": "other", "host": socket.gethostname(), "pid": None, "started": time.time(),
            "heartbeat": time.time(), **fields}
    (out / "_lock.json").write_text(json.dumps(body))


# -- the lock -----------------------------------------------------------------------------------------
def test_a_running_holder_refuses_a_second_run(corpus, tmp_path, tiny_model):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        out = tmp_path / "out"
        run_tiny(str(corpus), out, tiny_model)
        write_lock(out, pid=holder.pid)
        with pytest.raises(OutputError, match=rf"in use by another mdfs run \(pid {holder.pid} on"):
            run_tiny(str(corpus), out, tiny_model)
        write_lock(tmp_path / "fresh", pid=holder.pid)  # a lock alone in a new folder: also held
        with pytest.raises(OutputError, match="in use"):
            run_tiny(str(corpus), tmp_path / "fresh", tiny_model)
    finally:
        holder.kill()
        holder.wait()


def test_a_stale_lock_is_taken_over_and_released(corpus, tmp_path, tiny_model):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    out = tmp_path / "out"
    write_lock(out, pid=int(dead.stdout))  # a driver killed on this host
    assert run_tiny(str(corpus), out, tiny_model).docs_in == 63
    assert not (out / "_lock.json").exists()
    write_lock(out, host="other-node", heartbeat=time.time() - 3600)  # silent for an hour on another host
    assert run_tiny(str(corpus), out, tiny_model).shards_run == 0
    write_lock(out, pid=os.getpid(), heartbeat=time.time() - 3600)  # a reused pid: the heartbeat decides
    assert run_tiny(str(corpus), out, tiny_model).shards_run == 0
    write_lock(out, host="other-node")  # alive on another host
    with pytest.raises(OutputError, match="in use by another mdfs run .* on other-node"):
        run_tiny(str(corpus), out, tiny_model)


def test_two_concurrent_runs_one_is_refused_clearly(corpus, tmp_path, tiny_model):
    args = [sys.executable, "-m", "mdfs.cli", "run", str(TINY), "-i", str(corpus), "-o",
            str(tmp_path / "out"),
            "--engine", "serial", "--no-progress", "--no-report", "--set",
            f"stages.quality.model={tiny_model}",
            "--set", "stages.coarse.hooks={before: ['tests.plugins:slow']}"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MDFS_TEST_SLOW": "0.5"}
    first = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not (tmp_path / "out" / "_lock.json").exists() and time.time() < deadline:
        time.sleep(0.05)
    second = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert first.wait(timeout=300) == 0, first.stderr.read()
    assert second.returncode == 2 and "in use by another mdfs run" in second.stderr
    assert "Traceback" not in second.stderr


# -- paths --------------------------------------------------------------------------------------------
def test_output_reaching_the_input_is_refused(corpus, tmp_path, tiny_model):
    link = tmp_path / "link"
    link.symlink_to(corpus)
    with pytest.raises(OutputError, match="overlaps input"):
        run_tiny(str(corpus), link / "out", tiny_model)  # inside the input, through a symlink
    with pytest.raises(OutputError, match="overlaps input"):
        run_tiny(str(tmp_path / "i?"), tmp_path / "in" / "out", tiny_model)  # inside a folder a ? glob reads
    with pytest.raises(OutputError, match="overlaps input"):
        run_tiny(str(corpus / "**" / "*.jsonl"), corpus / "out", tiny_model)  # below a recursive glob
    assert run_tiny(str(corpus / "?.jsonl"), corpus / "out", tiny_model).docs_in == 32  # cannot match out/
    with pytest.raises(OutputError, match="overlaps input"):
        run_tiny(str(corpus / "a.jsonl"), corpus, tiny_model)  # the input file inside the output
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="is a file"):
        run_tiny(str(corpus), tmp_path / "file", tiny_model)
    assert sorted(p.name for p in corpus.iterdir()) == ["a.jsonl", "b.jsonl.gz", "c.txt", "out"]


def test_a_folder_holding_only_folders_is_not_taken_for_a_run(corpus, tmp_path, tiny_model):
    (tmp_path / "mine" / "data").mkdir(parents=True)
    (tmp_path / "mine" / "data" / "important.csv").write_text("a,b")
    with pytest.raises(OutputError, match="not an mdfs run"):
        run_tiny(str(corpus), tmp_path / "mine", tiny_model)
    assert (tmp_path / "mine" / "data" / "important.csv").read_text() == "a,b"


def test_each_input_file_is_read_once_however_named(corpus, tmp_path, tiny_model):
    (corpus / "sub").mkdir()
    (corpus / "sub" / "loop").symlink_to(corpus)  # a symlink loop
    (corpus / "again.jsonl").symlink_to(corpus / "a.jsonl")  # the same file under another name
    shards, _ = plan_shards(InputConfig(paths=[str(corpus), f"{corpus}/./a.jsonl", f"{corpus}/../in/c.txt"]))
    assert sorted(p.rel for s in shards for p in s.pieces) == ["a.jsonl", "b.jsonl.gz", "c.txt"]
    assert run_tiny([str(corpus), f"{corpus}/./a.jsonl"], tmp_path / "out", tiny_model).docs_in == 63


def test_brackets_in_an_explicit_file_name_are_literal(tmp_path, tiny_model):
    folder = tmp_path / "in"
    write_jsonl(folder / "a[1].jsonl", make_docs(5, "lit"))
    write_jsonl(folder / "a1.jsonl", make_docs(7, "glob"))  # what the glob a[1].jsonl would match
    s = run_tiny(str(folder / "a[1].jsonl"), tmp_path / "out", tiny_model)
    assert s.docs_in == 5 and {r["id"][:3] for r in read_dir(tmp_path / "out" / "data")} == {"lit"}


def test_a_glob_under_a_folder_with_brackets_in_its_name(tmp_path, tiny_model):
    folder = tmp_path / "crawl[2024]"
    write_jsonl(folder / "a.jsonl", make_docs(6, "lit"))
    write_jsonl(tmp_path / "crawl2" / "a.jsonl", make_docs(9, "cls"))  # what [2024] as a class would match
    s = run_tiny(str(folder / "*.jsonl"), tmp_path / "out", tiny_model)
    assert s.docs_in == 6


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_named_pipes_are_skipped_not_read(corpus, tmp_path, tiny_model, caplog):
    os.mkfifo(corpus / "pipe.jsonl")
    s = run_tiny(str(corpus), tmp_path / "out", tiny_model)  # would hang forever if it opened the pipe
    assert s.docs_in == 63 and "pipe.jsonl: not a regular file" in caplog.text
    with pytest.raises(InputError, match="pipe.jsonl: not a regular file"):
        run_tiny(str(corpus / "pipe.jsonl"), tmp_path / "out2", tiny_model)


# -- a run directory moved, damaged parts, temporary files ---------------------------------------------
def test_a_moved_run_directory_resumes(corpus, tmp_path, tiny_model):
    run_tiny(str(corpus), tmp_path / "out", tiny_model, "input.shard_size_mb=0.002")
    before = read_dir(tmp_path / "out" / "data")
    shutil.move(tmp_path / "out", tmp_path / "moved")
    again = run_tiny(str(corpus), tmp_path / "moved", tiny_model, "input.shard_size_mb=0.002")
    assert again.shards_run == 0 and read_dir(tmp_path / "moved" / "data") == before


def test_a_part_damaged_in_place_is_rebuilt(corpus, tmp_path, tiny_model):
    out = tmp_path / "out"
    run_tiny(str(corpus), out, tiny_model, "input.shard_size_mb=0.002")
    before = read_dir(out / "data")
    part = out / "data" / "part-00001.parquet"
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, different bytes
    part.write_bytes(bytes(data))
    again = run_tiny(str(corpus), out, tiny_model, "input.shard_size_mb=0.002", "output.keep_work=true")
    assert again.shards_run >= 1 and read_dir(out / "data") == before


def test_a_damaged_part_of_an_early_stage_is_rebuilt_too(corpus, tmp_path, tiny_model):
    out = tmp_path / "out"
    run_tiny(str(corpus), out, tiny_model, "input.shard_size_mb=0.002")
    before = {sub: read_dir(out / sub) for sub in ("data", "rejects")}
    part = next((out / "rejects" / "read").glob("*.parquet"))  # written by the first segment
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0xFF
    part.write_bytes(bytes(data))
    again = run_tiny(str(corpus), out, tiny_model, "input.shard_size_mb=0.002")
    assert again.shards_run >= 1 and {sub: read_dir(out / sub) for sub in ("data", "rejects")} == before


def test_temporary_files_are_hidden_from_readers_and_cleaned(corpus, tmp_path, tiny_model):
    out = tmp_path / "out"
    run_tiny(str(corpus), out, tiny_model)
    rows = pads.dataset(str(out / "data"), format="parquet").count_rows()
    leftover = out / "data" / ".part-00000.parquet.tmp-0badf00d"  # a kill between write and rename
    shutil.copy(out / "data" / "part-00000.parquet", leftover)
    assert pads.dataset(str(out / "data"), format="parquet").count_rows() == rows
    run_tiny(str(corpus), out, tiny_model)
    assert not leftover.exists()


# -- one huge line ------------------------------------------------------------------------------------
def test_one_huge_line_is_one_shard(tmp_path):
    docs = make_docs(20)
    docs[10]["text"] = "很长的一行。" * 400_000  # about 7 MB, many times the shard size
    path = write_jsonl(tmp_path / "in" / "big.jsonl", docs)
    shards, _ = plan_shards(InputConfig(paths=[str(path)], shard_size_mb=0.5))
    sizes = [s.size for s in shards]
    assert len(shards) <= 3 and sum(sizes) == path.stat().st_size
    data = path.read_bytes()
    for s in shards:  # every range starts at a line start
        assert all(p.start == 0 or data[p.start - 1:p.start] == b"\n" for p in s.pieces)


# -- a worker that keeps dying ------------------------------------------------------------------------
@pytest.mark.slow
def test_a_worker_dying_on_every_try_ends_in_one_clear_error(corpus, tmp_path, tiny_model, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("MDFS_TEST_DIE_ALWAYS", "doc-0003")
    hook = "stages.coarse.hooks={before: ['tests.plugins:die_on_document']}"
    with pytest.raises(EngineError) as err:
        run_tiny(str(corpus), tmp_path / "out", tiny_model, hook, engine="ray", workers=1)
    message = str(err.value)
    assert "died on shard part-00000" in message and "restarts of that worker (3) are used up" in message
    assert "stage coarse" in message
    assert "doc-0000" in message  # the batch holding the document it died on


def test_file_uris_name_local_paths_for_input_and_output(corpus, tmp_path, tiny_model, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = run_tiny(f"file://{corpus}", f"file://{tmp_path / 'out'}", tiny_model)
    assert s.output == str(tmp_path / "out") and (tmp_path / "out" / "data").is_dir()
    assert not (tmp_path / "file:").exists()  # not a folder named after the scheme
