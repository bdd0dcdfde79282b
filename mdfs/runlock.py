"""One run at a time per run directory: a lock file held for the whole run.

Two runs writing one directory would overwrite each other's parts and markers. The lock file `_lock.json`
names its holder (host, pid, start time) and is refreshed by a heartbeat thread. A second run is refused
with the holder's name. A lock is stale, and is taken over with a warning, when its holder is a dead
process on this host, or when its heartbeat is older than `STALE_AFTER` seconds (a holder on another
host, or a killed driver on an object store).

On a local disk the lock is created atomically (O_EXCL). Object stores have no create-if-absent in
pyarrow's filesystem API, so there the lock is written, read back after a pause, and kept only if it still
names this run: two runs starting within the same second could both pass that check; the heartbeat then
sees the other run's token and the driver stops (`check()`, between work items).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid

from mdfs import storage
from mdfs.errors import OutputError

log = logging.getLogger(__name__)

LOCK_NAME = "_lock.json"
HEARTBEAT = 30.0  # seconds between refreshes of the lock file
STALE_AFTER = 300.0  # a lock not refreshed for this long belongs to a dead run
SETTLE = 1.0  # object stores: pause before reading the lock back


class RunLock:
    def __init__(self, root: str):
        self.root = root.rstrip("/")
        self.path = storage.join(self.root, LOCK_NAME)
        self.token = uuid.uuid4().hex
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lost = False  # another run took the lock (see check())

    def _body(self) -> dict:
        return {"token": self.token, "host": socket.gethostname(), "pid": os.getpid(),
                "started": self._started, "heartbeat": time.time()}

    def acquire(self) -> RunLock:
        self._started = time.time()
        holder = self._holder()
        if holder is not None:
            reason = _stale(holder)
            if not reason:
                raise OutputError(
                    f"{self.root} is in use by another mdfs run (pid {holder.get('pid')} on "
                    f"{holder.get('host')}, started {_ago(holder.get('started'))} ago, lock {self.path}); "
                    "wait for it to finish or stop it")
            log.warning("taking over the lock of a dead run in %s (%s)", self.root, reason)
            if (self._holder() or {}).get("token") == holder.get("token"):  # not a new holder's meanwhile
                self._remove()
        self._create()
        self._thread = threading.Thread(target=self._beat, name="mdfs-lock-heartbeat", daemon=True)
        self._thread.start()
        return self

    def check(self) -> None:
        """Raise if another run took the lock: two writers would overwrite each other's parts."""
        if self.lost:
            raise OutputError(f"another mdfs run took the lock {self.path} while this one was running; "
                              "stopping (its outputs and this run's may be mixed: rerun with --force)")

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()  # a refresh in flight must land before the lock is removed
        holder = self._holder()
        if holder is not None and holder.get("token") == self.token:
            self._remove()

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()

    # -- storage -------------------------------------------------------------------------------------
    def _holder(self) -> dict | None:
        try:
            return json.loads(storage.read_bytes(self.path))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            if not storage.exists(self.path):
                return None
            return {"host": "?", "pid": None, "started": None, "heartbeat": 0}  # unreadable: treat as stale

    def _create(self) -> None:
        data = json.dumps(self._body()).encode()
        if storage.is_uri(self.root):
            storage.write_bytes(self.path, data)
            time.sleep(SETTLE)
            holder = self._holder()
            if holder is None or holder.get("token") != self.token:
                raise OutputError(f"{self.root}: another mdfs run took the lock {self.path} at the same time")
            return
        os.makedirs(self.root, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            raise OutputError(f"{self.root}: another mdfs run took the lock {self.path} at the same "
                              "time") from None
        with os.fdopen(fd, "wb") as f:
            f.write(data)

    def _remove(self) -> None:
        storage.delete_file(self.path)

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT):
            try:
                holder = self._holder()
                if holder is not None and holder.get("token") != self.token:
                    log.error("the lock %s was taken by another run (pid %s on %s)", self.path,
                              holder.get("pid"), holder.get("host"))
                    self.lost = True
                    return
                storage.write_bytes(self.path, json.dumps(self._body()).encode())
            except Exception as e:  # noqa: BLE001 — a network error must not end the heartbeat
                log.warning("cannot refresh the run lock: %s", e)


def _stale(holder: dict) -> str:
    """Why a lock's holder is gone ('' if it may still be running): a dead process on this host, or no
    heartbeat for STALE_AFTER seconds (a live pid may be a reused one, e.g. after a container restart)."""
    if holder.get("host") == socket.gethostname() and isinstance(holder.get("pid"), int) \
            and not _alive(holder["pid"]):
        return f"process {holder['pid']} is not running"
    age = time.time() - float(holder.get("heartbeat") or 0)
    return f"no heartbeat for {age:.0f} s" if age > STALE_AFTER else ""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _ago(t) -> str:
    return f"{time.time() - float(t):.0f} s" if t else "? s"
