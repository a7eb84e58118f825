"""The erase journal: what an erasure meant to remove and what it did, so a killed run resumes.

JSON lines in the state directory, one file per (bucket, tenant), appended and fsynced as work
happens, so its cost is constant per batch and a line cut short by ``kill -9`` is ignored:

* ``header``: bucket, tenant, when the erasure started (the report's ``started_at``);
* ``run``: each later run that continued it (the report says it resumed);
* ``intent``: a batch of (key, version id) about to go to ``DeleteObjects``;
* ``done``: that batch's outcome (removed, failed with S3's per-key code);
* ``upload``: a multipart upload aborted (and the bytes its parts held).

An ``intent`` without its ``done`` is a batch whose request may or may not have reached S3
when the process died. The next run sends it again first: ``DeleteObjects`` of a version that
is already gone succeeds, so replaying is safe, and the versions it removed still reach the
manifest. Everything else is found again by listing, which is idempotent too.

The journal is removed when a run finishes (the report and the manifest then hold the record);
it survives only an interrupted run. One process at a time: an exclusive ``flock`` on
``<journal>.lock``.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

PathLike = Union[str, "os.PathLike[str]"]
JOURNAL_FORMAT = 1


class JournalBusy(RuntimeError):
    """Another process is erasing the same tenant in the same bucket."""


def default_state_dir() -> Path:
    """``$XDG_STATE_HOME/securestore/erasures`` (``~/.local/state/...`` when unset)."""
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "securestore" / "erasures"


def journal_path(state_dir: PathLike, bucket: str, tenant: str) -> Path:
    digest = hashlib.sha256(f"{bucket}\0{tenant}".encode()).hexdigest()[:16]
    return Path(state_dir) / f"{tenant}-{digest}.erase.jsonl"


Entry = tuple  # (key, version_id, kind, size)


@dataclass
class JournalState:
    started_at: str
    runs: int = 1
    removed: dict[tuple[str, str], Entry] = field(default_factory=dict)
    pending: dict[int, list[Entry]] = field(default_factory=dict)
    failed: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    uploads: dict[tuple[str, str], int] = field(default_factory=dict)
    batches_done: int = 0
    next_batch: int = 0


class EraseJournal:
    def __init__(self, path: PathLike) -> None:
        self.path = Path(path)
        self._file: Any = None
        self._lock_file: Any = None
        self._mutex = threading.Lock()

    # -- lifetime
    def lock(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock_file = open(f"{self.path}.lock", "a+")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            self._lock_file.close()
            self._lock_file = None
            if error.errno in (errno.EAGAIN, errno.EACCES):
                raise JournalBusy(f"another erasure holds {self.path}.lock; wait for it to end") from None
            raise

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    # -- reading
    def load(self, bucket: str, tenant: str) -> Optional[JournalState]:
        """The state of an earlier, interrupted run of this erasure, or ``None``."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        state: Optional[JournalState] = None
        for line in text.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line cut short by a kill
            kind = record.get("type")
            if kind == "header":
                if record.get("bucket") != bucket or record.get("tenant") != tenant:
                    return None
                state = JournalState(started_at=record["started_at"])
            elif state is None:
                continue
            elif kind == "run":
                state.runs += 1
            elif kind == "intent":
                state.pending[record["batch"]] = [tuple(e) for e in record["entries"]]
                state.next_batch = max(state.next_batch, record["batch"] + 1)
            elif kind == "done":
                state.pending.pop(record["batch"], None)
                state.batches_done += 1
                for entry in record["removed"]:
                    state.removed[(entry[0], entry[1])] = tuple(entry)
                    state.failed.pop((entry[0], entry[1]), None)
                for key, version_id, code, message in record["failed"]:
                    state.failed[(key, version_id)] = (code, message)
            elif kind == "upload":
                state.uploads[(record["key"], record["upload_id"])] = int(record["bytes"])
        return state

    # -- writing
    def start(self, bucket: str, tenant: str, started_at: str) -> None:
        self._append({"type": "header", "format": JOURNAL_FORMAT, "bucket": bucket, "tenant": tenant,
                      "started_at": started_at}, truncate=True)

    def resumed(self, at: str) -> None:
        self._append({"type": "run", "at": at})

    def intent(self, batch: int, entries: list[Entry]) -> None:
        self._append({"type": "intent", "batch": batch, "entries": [list(e) for e in entries]})

    def done(self, batch: int, removed: list[Entry], failed: list[tuple[str, str, str, str]]) -> None:
        self._append({"type": "done", "batch": batch, "removed": [list(e) for e in removed],
                      "failed": [list(f) for f in failed]})

    def upload(self, key: str, upload_id: str, size: int) -> None:
        self._append({"type": "upload", "key": key, "upload_id": upload_id, "bytes": size})

    def _append(self, record: dict, truncate: bool = False) -> None:
        line = (json.dumps(record, separators=(",", ":")) + "\n").encode("utf-8")
        with self._mutex:
            if self._file is None or truncate:
                if self._file is not None:
                    self._file.close()
                flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if truncate else os.O_APPEND)
                self._file = os.fdopen(os.open(self.path, flags, 0o600), "ab")
            self._file.write(line)
            self._file.flush()
            os.fsync(self._file.fileno())
