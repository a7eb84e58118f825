"""What ``sync`` remembers between runs: checksums it has computed or read, so it need not again.

Two tables in one SQLite file (``$XDG_CACHE_HOME/securestore/sync/checksums.sqlite3``; the
directory is made ``0700``, the file ``0600``: a cache someone else can write could make a sync
skip a file that differs):

* ``local_checksum``: a local file's checksum for one algorithm and part layout, keyed by
  ``(device, inode, size, mtime_ns, ctime_ns)``. Writing a file changes its mtime, so a
  rewritten file misses and is hashed again; an unchanged tree is not read at all. The ctime is
  there because an mtime can be set back (``touch -d``, ``cp -p``, ``rsync -t``, any tool that
  restores times): a same-size rewrite with its old mtime would otherwise hit the old
  checksum. The ctime cannot be set by a user; any write, ``utime`` or ``chmod`` moves it.
* ``remote_checksum``: the checksum S3 stores for a key (and its part layout), valid while the
  listing shows the same ETag, size and LastModified. Any write changes LastModified. After our
  own upload LastModified is not known yet (PutObject does not return it): the row is stored
  without it and matched by ETag and size on the next listing, which then fills it in. An ETag
  is S3's digest of what it stored (MD5 for a plain PUT, MD5 of part MD5s for multipart, or an
  opaque per-write value under SSE-KMS); another object with the same ETag would need an MD5
  second preimage of our content, not a collision.

A third table, ``agreed``, is the shortcut of an unchanged tree: per key, the object (ETag,
size, LastModified) and the local file (device, inode, size, mtime, ctime) the last run found
or made equal by checksum. It is read ahead in key order (``READ_AHEAD_ROWS`` a query, the order
the listing comes in), so a path that has not changed on either side costs a dictionary lookup,
not two queries. Either signature differing sends the path to the two checksum tables.

Table names carry a version (``_v1``): a later layout gets new tables, and an old file simply
misses. SQLite rather than a dict: lookups by key without loading the table, so memory stays flat
whatever the number of files. Writes are batched (``FLUSH_EVERY`` rows a transaction). A file
that is not a readable database is set aside and a fresh one started: it is only a cache.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Optional, Union

FLUSH_EVERY = 512
READ_AHEAD_ROWS = 512
PRUNE_AFTER_SECONDS = 60 * 24 * 3600
SCHEMA = """
CREATE TABLE IF NOT EXISTS local_checksum_v1 (
    device INTEGER, inode INTEGER, size INTEGER, mtime_ns INTEGER, ctime_ns INTEGER, algorithm TEXT,
    layout TEXT, value TEXT, stored_at INTEGER,
    PRIMARY KEY (device, inode, size, mtime_ns, ctime_ns, algorithm, layout)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS agreed_v1 (
    endpoint TEXT, bucket TEXT, key TEXT, etag TEXT, size INTEGER, last_modified TEXT,
    device INTEGER, inode INTEGER, mtime_ns INTEGER, ctime_ns INTEGER, stored_at INTEGER,
    PRIMARY KEY (endpoint, bucket, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS remote_checksum_v1 (
    endpoint TEXT, bucket TEXT, key TEXT, etag TEXT, size INTEGER, last_modified TEXT,
    algorithm TEXT, value TEXT, layout TEXT, stored_at INTEGER,
    PRIMARY KEY (endpoint, bucket, key)) WITHOUT ROWID;
"""


def default_state_path() -> Path:
    """``$XDG_CACHE_HOME/securestore/sync/checksums.sqlite3`` (``~/.cache`` when unset)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "securestore" / "sync" / "checksums.sqlite3"


class ChecksumState:
    """The two caches; thread-safe (one connection behind a lock). ``close()`` flushes."""

    def __init__(self, path: Union[str, "os.PathLike[str]", None] = None) -> None:
        self.path = Path(path) if path is not None else default_state_path()
        self._lock = threading.Lock()
        self._local_rows: list[tuple] = []
        self._remote_rows: list[tuple] = []
        self._agreed_rows: list[tuple] = []
        self._ahead: dict[str, tuple] = {}
        self._ahead_scope: Optional[tuple[str, str]] = None
        self._ahead_from: Optional[str] = None
        self._ahead_to: Optional[str] = None  # every row with from <= key <= to is in _ahead
        self._connection = self._open()

    def _open(self) -> sqlite3.Connection:
        if str(self.path) == ":memory:":
            connection = sqlite3.connect(":memory:", check_same_thread=False)
            connection.executescript(SCHEMA)
            return connection
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        try:
            connection = self._connect()
        except sqlite3.DatabaseError:
            os.replace(self.path, self.path.with_name(self.path.name + f".corrupt-{int(time.time())}"))
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
            connection = self._connect()
        return connection

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(SCHEMA)
            cutoff = int(time.time()) - PRUNE_AFTER_SECONDS
            with connection:
                connection.execute("DELETE FROM local_checksum_v1 WHERE stored_at < ?", (cutoff,))
                connection.execute("DELETE FROM agreed_v1 WHERE stored_at < ?", (cutoff,))
        except sqlite3.DatabaseError:
            connection.close()
            raise
        return connection

    # local files ------------------------------------------------------------------------------
    def local(self, device: int, inode: int, size: int, mtime_ns: int, ctime_ns: int, algorithm: str,
              layout: str) -> Optional[str]:
        with self._lock:
            row = self._connection.execute(
                "SELECT value FROM local_checksum_v1 WHERE device=? AND inode=? AND size=? AND mtime_ns=? "
                "AND ctime_ns=? AND algorithm=? AND layout=?",
                (device, inode, size, mtime_ns, ctime_ns, algorithm, layout)).fetchone()
        return row[0] if row else None

    def remember_local(self, device: int, inode: int, size: int, mtime_ns: int, ctime_ns: int,
                       algorithm: str, layout: str, value: str) -> None:
        with self._lock:
            self._local_rows.append((device, inode, size, mtime_ns, ctime_ns, algorithm, layout, value,
                                     int(time.time())))
            if len(self._local_rows) >= FLUSH_EVERY:
                self._flush()

    # objects ----------------------------------------------------------------------------------
    def remote(self, endpoint: str, bucket: str, key: str, etag: str, size: int,
               last_modified: str) -> Optional[tuple[str, str, str]]:
        """``(algorithm, value, layout)`` if the row matches this listing entry, else ``None``."""
        with self._lock:
            row = self._connection.execute(
                "SELECT etag, size, last_modified, algorithm, value, layout FROM remote_checksum_v1 "
                "WHERE endpoint=? AND bucket=? AND key=?", (endpoint, bucket, key)).fetchone()
            if row is None or row[0] != etag or row[1] != size:
                return None
            if row[2] is None:  # written by our upload: the first listing tells its LastModified
                self._remote_rows.append((endpoint, bucket, key, etag, size, last_modified,
                                          row[3], row[4], row[5], int(time.time())))
                if len(self._remote_rows) >= FLUSH_EVERY:
                    self._flush()
            elif row[2] != last_modified:
                return None
        return row[3], row[4], row[5]

    def remember_remote(self, endpoint: str, bucket: str, key: str, etag: str, size: int,
                        last_modified: Optional[str], algorithm: str, value: str, layout: str) -> None:
        with self._lock:
            self._remote_rows.append((endpoint, bucket, key, etag, size, last_modified, algorithm,
                                      value, layout, int(time.time())))
            if len(self._remote_rows) >= FLUSH_EVERY:
                self._flush()

    def forget_remote(self, endpoint: str, bucket: str, key: str) -> None:
        with self._lock:
            self._flush()
            with self._connection:
                self._connection.execute("DELETE FROM remote_checksum_v1 WHERE endpoint=? AND bucket=? AND key=?",
                                         (endpoint, bucket, key))
                self._connection.execute("DELETE FROM agreed_v1 WHERE endpoint=? AND bucket=? AND key=?",
                                         (endpoint, bucket, key))

    # paths found equal ---------------------------------------------------------------------------
    def agreed(self, endpoint: str, bucket: str, key: str) -> Optional[tuple]:
        """``(etag, size, last_modified or None, device, inode, mtime_ns, ctime_ns)`` recorded for
        ``key``, or ``None``. Keys asked in increasing order cost one query per ``READ_AHEAD_ROWS``."""
        with self._lock:
            scope = (endpoint, bucket)
            covered = (self._ahead_scope == scope and self._ahead_from is not None
                       and self._ahead_from <= key and (self._ahead_to is None or key <= self._ahead_to))
            if not covered:
                rows = self._connection.execute(
                    "SELECT key, etag, size, last_modified, device, inode, mtime_ns, ctime_ns FROM agreed_v1 "
                    "WHERE endpoint=? AND bucket=? AND key>=? ORDER BY key LIMIT ?",
                    (endpoint, bucket, key, READ_AHEAD_ROWS)).fetchall()
                self._ahead = {row[0]: row[1:] for row in rows}
                self._ahead_scope, self._ahead_from = scope, key
                self._ahead_to = rows[-1][0] if len(rows) == READ_AHEAD_ROWS else None
            return self._ahead.get(key)

    def remember_agreed(self, endpoint: str, bucket: str, key: str, etag: str, size: int,
                        last_modified: Optional[str], device: int, inode: int, mtime_ns: int,
                        ctime_ns: int) -> None:
        with self._lock:
            self._agreed_rows.append((endpoint, bucket, key, etag, size, last_modified, device, inode,
                                      mtime_ns, ctime_ns, int(time.time())))
            if len(self._agreed_rows) >= FLUSH_EVERY:
                self._flush()

    # ------------------------------------------------------------------------------------------
    def _flush(self) -> None:
        if not (self._local_rows or self._remote_rows or self._agreed_rows):
            return
        with self._connection:
            self._connection.executemany("INSERT OR REPLACE INTO local_checksum_v1 VALUES (?,?,?,?,?,?,?,?,?)",
                                         self._local_rows)
            self._connection.executemany("INSERT OR REPLACE INTO remote_checksum_v1 VALUES (?,?,?,?,?,?,?,?,?,?)",
                                         self._remote_rows)
            self._connection.executemany("INSERT OR REPLACE INTO agreed_v1 VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                                         self._agreed_rows)
        self._local_rows, self._remote_rows, self._agreed_rows = [], [], []

    def flush(self) -> None:
        with self._lock:
            self._flush()

    def close(self) -> None:
        with self._lock:
            try:
                self._flush()
            finally:
                self._connection.close()

    def __enter__(self) -> "ChecksumState":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
