"""The state file that lets a killed multipart upload finish without resending its parts.

It is a journal of JSON lines: a header naming the upload (bucket, key, upload id, part size,
checksum algorithm, and the file's size and modification time, so that a changed file is not
resumed), then one line per completed part with its ETag and checksum. A line is appended as
each part completes, so the cost stays constant per part however many parts there are, and a
line cut short by ``kill -9`` is simply ignored when the journal is read back.

Where it lives: ``$XDG_STATE_HOME/securestore/uploads`` (``~/.local/state/...``; state, not a
cache: deleting it orphans uploads), else, when that cannot be made or written (a read-only
HOME in a container, no HOME and no passwd entry for the uid), a directory of this uid's own
under the system's temporary directory (mode 0700, refused if someone else owns it); or
``--state-file``. A journal left in the old place (``~/.cache/securestore/uploads``) is still
found. A journal that cannot be read (cut, overwritten, not ours) is set aside as
``<name>.corrupt-<time>`` with a message naming both, and the upload goes on.

The journal only records; the uploader decides. On success or a confirmed abort the file is
removed. It is kept when the upload is kept (retries ran out on a transient cause, or an
interrupt could not confirm the abort), and when a process dies without running its cleanup.

One process at a time: ``lock()`` takes an exclusive ``flock`` on ``<journal>.lock`` (beside the
journal, because ``start`` replaces the journal file itself) and records the holder's pid, so a
second upload of the same file to the same key fails at once naming the first. The lock file
is never deleted: unlinking a lock file others may have opened lets two processes each lock a
different inode.
"""

from __future__ import annotations

import datetime as _dt
import errno
import fcntl
import hashlib
import json
import os
import stat
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Optional, Union

from .errors import JournalBusyError

STATE_FORMAT_VERSION = 1
STATE_SUFFIX = ".state.json"

PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class UploadIdentity:
    """What must match for an old upload to be continued rather than restarted."""

    bucket: str
    key: str
    path: str
    file_size: int
    mtime_ns: int
    part_size: int
    checksum_algorithm: str


@dataclass
class UploadState:
    identity: UploadIdentity
    upload_id: str
    created_at: str
    parts: dict[int, tuple[str, str]] = field(default_factory=dict)  # number -> (etag, checksum b64)


def _home() -> Optional[Path]:
    """``$HOME``, else the passwd entry's; ``None`` when neither exists (a container's uid)."""
    try:
        return Path.home()
    except (RuntimeError, KeyError):
        return None


def _xdg_dir(variable: str, fallback: str) -> Optional[Path]:
    value = os.environ.get(variable)
    if value and os.path.isabs(value):  # the XDG spec: relative values are ignored
        return Path(value)
    home = _home()
    return home / fallback if home is not None else None


def _usable(directory: Path) -> bool:
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return False
    return os.access(directory, os.W_OK | os.X_OK)


def _private_temporary_dir() -> Path:
    """``<tmp>/securestore-<uid>/uploads``, ours alone: created 0700, refused if another user
    owns it or it is a link (someone could otherwise read or plant journals)."""
    base = Path(tempfile.gettempdir()) / f"securestore-{os.getuid()}"
    try:
        base.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(base)
    except OSError as error:
        raise OSError(f"no writable place for upload journals ({base}: {error.strerror}); "
                      "pass --state-file, or set XDG_STATE_HOME to a writable directory") from None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise OSError(f"{base} is not a private directory of this user: refusing to keep upload "
                      "journals there; pass --state-file, or set XDG_STATE_HOME")
    folder = base / "uploads"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def legacy_journal_dir() -> Optional[Path]:
    """Where journals were kept before (``$XDG_CACHE_HOME/securestore/uploads``)."""
    cache = _xdg_dir("XDG_CACHE_HOME", ".cache")
    return cache / "securestore" / "uploads" if cache is not None else None


def default_journal_dir() -> Path:
    """``$XDG_STATE_HOME/securestore/uploads`` (``~/.local/state/...``), or the private temporary
    fallback when that cannot be created or written."""
    state = _xdg_dir("XDG_STATE_HOME", ".local/state")
    if state is not None and _usable(state / "securestore" / "uploads"):
        return state / "securestore" / "uploads"
    return _private_temporary_dir()


def default_state_path(path: PathLike, bucket: str, key: str, cache_dir: Optional[PathLike] = None) -> Path:
    """``<journal dir>/<hash of file, bucket, key>.state.json`` (``default_journal_dir()``); a
    journal of the same upload left in the legacy directory is used where it is."""
    name = hashlib.sha256("\0".join((os.path.abspath(path), bucket, key)).encode()).hexdigest()[:32]
    if cache_dir is None:
        legacy = legacy_journal_dir()
        if legacy is not None and (legacy / f"{name}{STATE_SUFFIX}").is_file():
            return legacy / f"{name}{STATE_SUFFIX}"
        cache_dir = default_journal_dir()
    return Path(cache_dir) / f"{name}{STATE_SUFFIX}"


class UploadJournal:
    """Appends an upload's progress to ``path``; thread-safe for concurrent part completions."""

    def __init__(self, path: PathLike) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._handle = None
        self._lock_handle = None

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    def lock(self, what: str = "this upload") -> None:
        """Hold the journal exclusively until ``unlock``; ``JournalBusyError`` if another process does."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.lock_path, "a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            handle.seek(0)
            pid, _, doing = handle.read().strip().partition("\t")
            handle.close()
            if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            raise JournalBusyError(
                f"another securestore process (pid {pid or 'unknown'}) is already running "
                f"{doing or 'an upload'} with the journal {self.path}. Wait for it to end, or "
                "stop it first") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\t{what}\n")  # the holder names itself to the next comer
        handle.flush()
        self._lock_handle = handle

    def unlock(self) -> None:
        if self._lock_handle is not None:
            self._lock_handle.close()  # closing the descriptor releases the flock
            self._lock_handle = None

    def load(self, notify: Optional[Callable[[str], None]] = None) -> Optional[UploadState]:
        """The recorded upload, or ``None`` when there is none. A journal that cannot be read is
        set aside (``set_aside``) when ``notify`` is given, and reported through it."""
        try:
            text = self.path.read_text(encoding="utf-8")
            lines = text.splitlines()
            header = json.loads(lines[0])
            if header.get("version") != STATE_FORMAT_VERSION:
                raise ValueError(f"format version {header.get('version')!r}, not {STATE_FORMAT_VERSION}")
            state = UploadState(
                identity=UploadIdentity(**header["identity"]),
                upload_id=str(header["upload_id"]),
                created_at=str(header["created_at"]),
            )
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as error:
            if notify is not None:
                why = "it is empty" if isinstance(error, IndexError) else f"{type(error).__name__}: {error}"
                aside = self.set_aside()
                notify(f"the upload journal {self.path} could not be read ({why}); it was set aside as "
                       f"{aside}, and this upload starts afresh (an upload it described, if any, is "
                       "shown by `securestore uploads list`)")
            return None
        for line in lines[1:]:
            try:
                entry = json.loads(line)
                state.parts[int(entry["part"])] = (str(entry["etag"]), str(entry["checksum"]))
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short when the process was killed
        return state

    def set_aside(self) -> Path:
        """Rename the journal to ``<name>.corrupt-<UTC time>`` (kept for a human, never deleted)."""
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        os.replace(self.path, aside)
        return aside

    def start(self, identity: UploadIdentity, upload_id: str) -> None:
        """Write a fresh header (replacing any old journal) and keep the file open for appends."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        header = {
            "version": STATE_FORMAT_VERSION,
            "identity": asdict(identity),
            "upload_id": upload_id,
            "created_at": _dt.datetime.now(_dt.timezone.utc).isoformat(),
        }
        temporary = self.path.with_name(self.path.name + ".tmp")
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(header) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)
        self._open_for_append()

    def resume(self, state: UploadState) -> None:
        """Continue appending to an existing journal (rewritten to drop any cut-off line)."""
        self.start(state.identity, state.upload_id)
        for number, (etag, checksum) in sorted(state.parts.items()):
            self.record(number, etag, checksum)

    def record(self, part_number: int, etag: str, checksum: str) -> None:
        line = json.dumps({"part": part_number, "etag": etag, "checksum": checksum}) + "\n"
        with self._lock:
            if self._handle is not None:
                self._handle.write(line)
                self._handle.flush()  # reaches the kernel: survives kill -9 of this process

    def discard(self) -> None:
        """Close and delete the journal (the upload completed or was aborted)."""
        with self._lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    def close(self) -> None:
        with self._lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None

    def _open_for_append(self) -> None:
        with self._lock:
            if self._handle is not None:
                self._handle.close()
            self._handle = open(self.path, "a", encoding="utf-8")


def journals_in(directory: Optional[PathLike] = None) -> dict[str, tuple[Path, UploadState]]:
    """The readable journals in ``directory`` (default: ``default_journal_dir()``), by upload id."""
    found: dict[str, tuple[Path, UploadState]] = {}
    if directory is not None:
        folders = [Path(directory)]
    else:
        folders = [folder for folder in (legacy_journal_dir(), default_journal_dir()) if folder is not None]
    for folder in folders:
        if not folder.is_dir():
            continue
        for candidate in sorted(folder.glob(f"*{STATE_SUFFIX}")):
            state = UploadJournal(candidate).load()
            if state is not None:
                found[state.upload_id] = (candidate, state)
    return found
